package runtime

import "net"

type (
	netConn   = net.Conn
	netDialer = net.Dialer
)
