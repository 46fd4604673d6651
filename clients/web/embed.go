// Package web embeds the browser console: the build output of the Vite
// project in this directory (dist/), so that `wormvault serve` serves the
// console at /console/ with no Node at run time. Building the console
// replaces dist/; until then it holds a placeholder page.
package web

import (
	"embed"
	"io/fs"
)

// dist is the console's build output; "all:" keeps files whose names start
// with "." or "_", which Vite may emit.
//
//go:embed all:dist
var dist embed.FS

// Dist returns the console's files, index.html at the root.
func Dist() fs.FS {
	sub, err := fs.Sub(dist, "dist")
	if err != nil { // "dist" is a valid path: cannot happen
		panic(err)
	}
	return sub
}
