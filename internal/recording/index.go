package recording

import (
	"context"

	"gorm.io/gorm"
)

// Index is every recording in the database g (Parley's own, or a backup copy of it), oldest
// first: what a backup lists beside the files, so an operator can see which file belongs to
// which meeting without starting Parley.
func Index(ctx context.Context, g *gorm.DB) ([]Recording, error) {
	return store{db: g}.all(ctx)
}
