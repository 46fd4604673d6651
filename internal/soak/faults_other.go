//go:build !linux

package soak

import "errors"

var errNoMount = errors.New("mounting is implemented for Linux only")

func canMount() bool                 { return false }
func bindReadOnly(string) error      { return errNoMount }
func mountTmpfs(string, int64) error { return errNoMount }
func unmount(string) error           { return errNoMount }
