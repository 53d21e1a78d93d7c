package importer

import (
	"archive/zip"
	"io"
	"strings"
)

// Defaults of the import limits (HANDOVER_IMPORT_*).
const (
	// DefaultMaxRows bounds the rows of a file, blank ones included.
	DefaultMaxRows = 2_000_000
	// DefaultMaxUnzippedBytes bounds what an XLSX workbook expands to.
	DefaultMaxUnzippedBytes = 1 << 30
	// DefaultRejectStop is how many first rows, all rejected, stop an import.
	DefaultRejectStop = 1000
)

const (
	// maxZipEntries bounds the parts of a workbook (a real one has tens).
	maxZipEntries = 10_000
	// maxInMemoryPart is the size beyond which excelize keeps a worksheet
	// or the shared strings in a temporary file; every other part it reads
	// into memory, so those parts together stay under maxInMemoryParts.
	maxInMemoryPart  = 16 << 20
	maxInMemoryParts = 64 << 20
)

// limits bound one import's work, whatever the file claims.
type limits struct {
	rows       int64 // data rows and blank rows, header excluded
	unzipped   int64 // bytes an XLSX expands to
	rejectStop int64 // this many first rows, all rejected, stop the import
}

func (im *Importer) limits() limits {
	lim := limits{rows: im.MaxRows, unzipped: im.MaxUnzippedBytes, rejectStop: int64(im.RejectStop)}
	if lim.rows <= 0 {
		lim.rows = DefaultMaxRows
	}
	if lim.unzipped <= 0 {
		lim.unzipped = DefaultMaxUnzippedBytes
	}
	if lim.rejectStop <= 0 {
		lim.rejectStop = DefaultRejectStop
	}
	return lim
}

// checkZip reads a workbook's directory, before anything is extracted,
// and refuses one that would expand past the limits. It then inflates each
// part to nowhere: archive/zip stops a part at its declared size with an
// error (a lie is a damaged file) where excelize would silently read a
// truncated sheet.
func checkZip(path string, lim limits) error {
	zr, err := zip.OpenReader(path)
	if err != nil {
		return fileError("the file is not an Excel .xlsx workbook (it may be encrypted or damaged)")
	}
	defer zr.Close()
	if len(zr.File) > maxZipEntries {
		return fileError("the Excel workbook has %d parts, more than %d; it is not a normal workbook", len(zr.File), maxZipEntries)
	}
	var total, inMemory uint64
	for _, f := range zr.File {
		total += f.UncompressedSize64
		name := strings.ToLower(strings.ReplaceAll(f.Name, "\\", "/"))
		if !strings.HasPrefix(name, "xl/worksheets/sheet") && name != "xl/sharedstrings.xml" {
			inMemory += f.UncompressedSize64
		}
	}
	if total > uint64(lim.unzipped) {
		return fileError("the Excel workbook expands to %d MB, more than %d MB (HANDOVER_IMPORT_MAX_UNZIPPED_MB); save the sheet as CSV or split it; nothing was imported",
			total>>20, lim.unzipped>>20)
	}
	if inMemory > maxInMemoryParts {
		return fileError("the Excel workbook's parts other than its sheets expand to %d MB, more than %d MB; it is not a normal workbook", inMemory>>20, maxInMemoryParts>>20)
	}
	for _, f := range zr.File {
		if err := inflates(f); err != nil {
			return fileError("the Excel workbook is damaged and cannot be read")
		}
	}
	return nil
}

// inflates reads a part to its end, checking its size and checksum.
func inflates(f *zip.File) error {
	rc, err := f.Open()
	if err != nil {
		return err
	}
	defer rc.Close()
	_, err = io.Copy(io.Discard, rc)
	return err
}
