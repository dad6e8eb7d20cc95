//go:build !webui

package web

import (
	"embed"
	"io/fs"
)

// The page in English and in the other languages of the web app (index.<lang>.html).
//
//go:embed fallback/index.html fallback/index.de.html
var fallback embed.FS

func distFS() fs.FS {
	sub, err := fs.Sub(fallback, "fallback")
	if err != nil {
		panic(err) // cannot happen: "fallback" is a valid path embedded above
	}
	return sub
}
