package backfill

import "errors"

// ErrMappingChanged is wrapped by the error [Run] returns when the table's
// checkpoint was made with another mapping of the table (other tables,
// columns, expressions or key): resuming it would leave the rows already
// copied as the old mapping made them. [Reset] the checkpoint to copy every
// row with the current mapping.
var ErrMappingChanged = errors.New("backfill: the checkpoint was made with another mapping of the table")
