//go:build !unix

package telemetry

import "time"

func processCPU() (time.Duration, bool) { return 0, false }
