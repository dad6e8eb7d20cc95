//go:build !webui

package web

import (
	"embed"
	"io/fs"
)

//go:embed fallback/index.html
var fallback embed.FS

func distFS() fs.FS {
	sub, err := fs.Sub(fallback, "fallback")
	if err != nil {
		panic(err) // cannot happen: "fallback" is a valid path embedded above
	}
	return sub
}
