package mapping

import (
	"strconv"
	"strings"
)

// Error is one problem found in a mapping file. [Parse] and [Load] collect
// every problem they find and return them joined with [errors.Join], each one
// an *Error, so a caller can list them all or pick one out with [errors.As].
type Error struct {
	// File is the path given to [Load]; "" when the mapping came from [Parse].
	File string
	// Line is the 1-based line of the offending entry; 0 when unknown.
	Line int
	// Field is the path of the offending entry, such as
	// "tables[0].columns.first_name"; "" for problems with the whole file.
	Field string
	// Msg says what is wrong and how to fix it.
	Msg string
}

// Error formats the problem as "file:line: field: message", or
// "line N: field: message" when there is no file name.
func (e *Error) Error() string {
	var b strings.Builder
	switch {
	case e.File != "" && e.Line > 0:
		b.WriteString(e.File + ":" + strconv.Itoa(e.Line) + ": ")
	case e.File != "":
		b.WriteString(e.File + ": ")
	case e.Line > 0:
		b.WriteString("line " + strconv.Itoa(e.Line) + ": ")
	}
	if e.Field != "" {
		b.WriteString(e.Field + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}
