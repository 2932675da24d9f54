//go:build !linux && !darwin

package home

// On this platform a record identifies its process by pid alone.
func processStart(int) string { return "" }
func processExe(int) string   { return "" }
