// Package config is the box's typed configuration: defaults for the image and
// for dev mode, validation whose errors name the field and the reason, and
// atomic load/save of the config file under the data directory
// (/perm/box/config.json on the image).
//
// It imports nothing of the box: every other package may import it.
package config
