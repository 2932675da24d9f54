package logs

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// ParseLine reads one line of a host log file, as the host writes it: slog text
// (time=… level=… msg=… k=v) or JSON (--enable-structured-logging). A line in neither form
// (a panic, a native provider that wrote around the logger) becomes a record whose message is
// the line, with no time and level "".
func ParseLine(line, hostID string) Record {
	line = strings.TrimRight(line, "\r\n")
	if strings.HasPrefix(line, "{") {
		if r, ok := parseJSONLine(line); ok {
			r.HostID = hostID
			return r
		}
	}
	if strings.HasPrefix(line, "time=") {
		if r, ok := parseTextLine(line); ok {
			r.HostID = hostID
			return r
		}
	}
	return Record{HostID: hostID, Message: line}
}

func parseJSONLine(line string) (Record, bool) {
	var m map[string]any
	if json.Unmarshal([]byte(line), &m) != nil {
		return Record{}, false
	}
	var r Record
	for k, v := range m {
		s, isStr := v.(string)
		if !isStr {
			b, _ := json.Marshal(v)
			s = string(b)
		}
		if !r.setField(k, s) {
			return Record{}, false
		}
	}
	return r, !r.Time.IsZero()
}

// setField stores one key=value of a slog line, text or JSON: time, level and msg in their
// fields, anything else as an attribute. It reports false for a time that does not parse.
func (r *Record) setField(key, val string) bool {
	switch key {
	case "time":
		t, err := time.Parse(time.RFC3339Nano, val)
		if err != nil {
			return false
		}
		r.Time = t
	case "level":
		r.Level = strings.ToUpper(val)
	case "msg":
		r.Message = val
	default:
		r.setAttr(key, val)
	}
	return true
}

func parseTextLine(line string) (Record, bool) {
	var r Record
	rest := line
	for rest != "" {
		rest = strings.TrimLeft(rest, " ")
		eq := strings.IndexByte(rest, '=')
		if eq <= 0 {
			return Record{}, false
		}
		key := rest[:eq]
		if strings.ContainsAny(key, " \"") {
			return Record{}, false
		}
		rest = rest[eq+1:]
		var val string
		if strings.HasPrefix(rest, `"`) {
			q, err := strconv.QuotedPrefix(rest)
			if err != nil {
				return Record{}, false
			}
			val, _ = strconv.Unquote(q)
			rest = rest[len(q):]
		} else {
			sp := strings.IndexByte(rest, ' ')
			if sp < 0 {
				sp = len(rest)
			}
			val, rest = rest[:sp], rest[sp:]
		}
		if !r.setField(key, val) {
			return Record{}, false
		}
	}
	return r, !r.Time.IsZero()
}

// maxLine bounds one line read from a log file; longer lines are cut.
const maxLine = 1 << 20

// ReadFile parses a log file, calling fn for each record in order. Lines longer than 1 MiB are
// cut.
func ReadFile(r io.Reader, hostID string, fn func(Record)) error {
	br := bufio.NewReaderSize(r, 64<<10)
	for {
		line, err := readLine(br)
		if line != "" {
			fn(ParseLine(line, hostID))
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("reading log: %w", err)
		}
	}
}

func readLine(br *bufio.Reader) (string, error) {
	var b strings.Builder
	for {
		chunk, isPrefix, err := br.ReadLine()
		if b.Len() < maxLine {
			b.Write(chunk[:min(len(chunk), maxLine-b.Len())])
		}
		if err != nil || !isPrefix {
			return b.String(), err
		}
	}
}
