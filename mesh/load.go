package mesh

// manifestState holds what AddManifest decoded and Build has not yet folded
// into the Builder.
type manifestState struct{}

// flushManifests folds the objects AddManifest decoded into b.
func (b *Builder) flushManifests() {}
