// Command boxbuild builds the box's disk images and update payloads:
//
//	boxbuild image -target amd64|pi -version V [-out build/box-<target>-<V>.img]
//	boxbuild bundle -target amd64|pi -version V -build N [-out FILE]
//
// All the work is in package images.
package main
