package db

import "gorm.io/gorm"

// CheckpointPasses is how many background checkpoint passes g's checkpointer completed.
func CheckpointPasses(g *gorm.DB) int64 {
	if c, ok := g.Config.Plugins[checkpointerName].(*checkpointer); ok {
		return c.passes.Load()
	}
	return -1
}
