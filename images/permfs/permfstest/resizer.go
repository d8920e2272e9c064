package permfstest

// Resize is one call of ResizePartition.
type Resize struct {
	Number        int
	Start, Length int64
}

// Resizer records resize requests and answers them with Err.
type Resizer struct {
	Calls []Resize
	Err   error
}

// ResizePartition implements permfs.Resizer.
func (r *Resizer) ResizePartition(number int, start, length int64) error {
	r.Calls = append(r.Calls, Resize{Number: number, Start: start, Length: length})
	return r.Err
}
