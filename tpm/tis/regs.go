package tis

// Regs is one TIS register space: five localities of 4 KiB each. Every call
// is exactly one bus access of the named width. Backends must never widen,
// split or repeat an access, and never read-modify-write: reading DATA_FIFO
// consumes a byte of the response.
type Regs interface {
	Read8(loc, off int) (uint8, error)
	Read32(loc, off int) (uint32, error)
	Write8(loc, off int, v uint8) error
	Write32(loc, off int, v uint32) error
}

// FIFOBurster is implemented by backends that move several DATA_FIFO bytes
// in one bus transaction (SPI frames carry up to 64). The driver never asks
// for more than the TPM's current burstCount.
type FIFOBurster interface {
	ReadFIFO(loc int, p []byte) error
	WriteFIFO(loc int, p []byte) error
}

// Register offsets inside one locality (PTP, FIFO interface).
const (
	regAccess = 0x000
	regSts    = 0x018
	regFIFO   = 0x024
	regDIDVID = 0xF00
	regRID    = 0xF04

	localitySize = 0x1000
	numLocality  = 5
)

// TPM_ACCESS bits.
const (
	accessValid    = 0x80 // tpmRegValidSts
	accessReserved = 0x40 // reads 0 on a real TPM; set when the bus floats high
	accessActive   = 0x20 // activeLocality (write 1 to relinquish)
	accessRequest  = 0x02 // requestUse
)

// TPM_STS bits (low byte) and the burstCount field (bits 8..23).
const (
	stsValid     = 0x80
	stsReady     = 0x40 // commandReady
	stsGo        = 0x20 // tpmGo
	stsDataAvail = 0x10
	stsExpect    = 0x08
	stsRetry     = 0x02 // responseRetry: rewind the response for another read

	stsAllOnes = 0xFFFFFFFF // what STS reads while the locality is not active
)

func burstCount(sts uint32) int { return int(sts>>8) & 0xFFFF }
