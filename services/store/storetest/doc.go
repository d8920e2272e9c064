// Package storetest opens throwaway stores for other packages' tests.
package storetest
