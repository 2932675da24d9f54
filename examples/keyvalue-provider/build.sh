#!/bin/sh
# Build the provider for this machine and pack it into keyvalue-provider.par.gz, signed with
# keys kept under $WASH_HOME/keys. Needs Go and wash.
set -eu
cd "$(dirname "$0")"
wash=${WASH:-wash}
arch=$(uname -m)-$(uname -s | tr 'A-Z' 'a-z')
case "$arch" in arm64-darwin) arch=aarch64-macos ;; x86_64-darwin) arch=x86_64-macos ;; esac
CGO_ENABLED=0 go build -o keyvalue-provider .
"$wash" par create --binary keyvalue-provider --name "keyvalue-provider" --vendor wash-examples \
	--version 0.1.0 --arch "$arch" --compress --destination keyvalue-provider.par.gz
rm keyvalue-provider
ls -l keyvalue-provider.par.gz
