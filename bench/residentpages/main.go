// Command residentpages tells which code and data of a running Go program are resident: it reads
// the present bits of /proc/PID/pagemap over the mappings of the program's own executable and
// charges every resident byte to the package that owns it — functions and data by the ELF symbol
// table, the runtime's per-function tables (.gopclntab: _func records, pc-value tables, names,
// stack maps) by decoding the pclntab — so the packages that cost the most resident pages are
// listed, by section. bench/idle-rss.sh runs it against an idle `wash up`.
//
//	go run ./bench/residentpages -pid 1234 [-top 40]
package main

import (
	"bufio"
	"debug/buildinfo"
	"debug/dwarf"
	"debug/elf"
	"encoding/binary"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

const pageSize = 4096

func main() {
	pid := flag.Int("pid", 0, "process to inspect")
	top := flag.Int("top", 40, "packages to list")
	flag.Parse()
	if *pid <= 0 {
		fmt.Fprintln(os.Stderr, "usage: residentpages -pid PID [-top N]")
		os.Exit(2)
	}
	if err := run(*pid, *top, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "residentpages:", err)
		os.Exit(1)
	}
}

// span is a byte range of the executable's image charged to one owner (a package, or a label
// such as "(pclntab headers)").
type span struct {
	start, end uint64
	owner      string
	section    string
}

func run(pid, top int, out io.Writer) error {
	exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
	if err != nil {
		return err
	}
	f, err := elf.Open(exe)
	if err != nil {
		return err
	}
	defer f.Close()
	resident, err := residentPages(pid, exe)
	if err != nil {
		return err
	}
	spans, err := imageSpans(f)
	if err != nil {
		return err
	}
	spans = append(spans, typeSpans(f)...)
	modules := modulePaths(exe)

	bySection := map[string]uint64{}  // resident bytes
	byOwner := map[string]uint64{}    // resident bytes
	byOwnerSec := map[string]uint64{} // owner + "\x00" + section
	attributed := map[string]uint64{}
	for _, s := range spans {
		n := residentBytes(resident, s.start, s.end)
		attributed[s.section] += n
		if n == 0 {
			continue
		}
		owner := moduleOf(s.owner, modules)
		byOwner[owner] += n
		byOwnerSec[owner+"\x00"+s.section] += n
	}
	// the sections' resident pages as the kernel maps them (whole pages)
	var total uint64
	for _, sec := range f.Sections {
		if sec.Flags&elf.SHF_ALLOC == 0 || sec.Type == elf.SHT_NOBITS || sec.Size == 0 {
			continue
		}
		n := residentBytes(resident, sec.Addr, sec.Addr+sec.Size)
		bySection[sec.Name] += n
	}
	for range resident {
		total += pageSize
	}
	fmt.Fprintf(out, "resident pages of %s: %d KiB\n", filepath.Base(exe), total/1024)
	var secs []string
	for s := range bySection {
		secs = append(secs, s)
	}
	sort.Slice(secs, func(i, j int) bool { return bySection[secs[i]] > bySection[secs[j]] })
	for _, s := range secs {
		if bySection[s] >= 4096 {
			fmt.Fprintf(out, "  %-14s %7d KiB (%d KiB charged to symbols below)\n", s, bySection[s]/1024, attributed[s]/1024)
		}
	}
	var owners []string
	for o := range byOwner {
		owners = append(owners, o)
	}
	sort.Slice(owners, func(i, j int) bool { return byOwner[owners[i]] > byOwner[owners[j]] })
	fmt.Fprintf(out, "\nresident KiB by module (std: per package), bytes of resident pages that the module's symbols cover\n")
	fmt.Fprintf(out, "%8s %8s %8s %8s  %s\n", "total", ".text", ".rodata", "pclntab", "module")
	for i, o := range owners {
		if i == top {
			break
		}
		fmt.Fprintf(out, "%8d %8d %8d %8d  %s\n", byOwner[o]/1024, byOwnerSec[o+"\x00.text"]/1024,
			byOwnerSec[o+"\x00.rodata"]/1024, byOwnerSec[o+"\x00.gopclntab"]/1024, o)
	}
	return nil
}

// residentPages returns the page-aligned addresses of the executable's mappings whose pages are
// present in the process (pagemap bit 63) or swapped (bit 62).
func residentPages(pid int, exe string) (map[uint64]bool, error) {
	maps, err := os.Open(fmt.Sprintf("/proc/%d/maps", pid))
	if err != nil {
		return nil, err
	}
	defer maps.Close()
	pm, err := os.Open(fmt.Sprintf("/proc/%d/pagemap", pid))
	if err != nil {
		return nil, err
	}
	defer pm.Close()
	resident := map[uint64]bool{}
	sc := bufio.NewScanner(maps)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 6 || fields[5] != exe {
			continue
		}
		lo, hi, ok := strings.Cut(fields[0], "-")
		if !ok {
			continue
		}
		start, err1 := strconv.ParseUint(lo, 16, 64)
		end, err2 := strconv.ParseUint(hi, 16, 64)
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("bad maps line %q", sc.Text())
		}
		entries := make([]byte, (end-start)/pageSize*8)
		if _, err := pm.ReadAt(entries, int64(start/pageSize*8)); err != nil {
			return nil, fmt.Errorf("pagemap: %w", err)
		}
		for i := 0; i < len(entries); i += 8 {
			e := binary.LittleEndian.Uint64(entries[i:])
			if e&(1<<63) != 0 || e&(1<<62) != 0 {
				resident[start+uint64(i/8)*pageSize] = true
			}
		}
	}
	return resident, sc.Err()
}

// residentBytes counts the bytes of [start, end) that lie on resident pages.
func residentBytes(resident map[uint64]bool, start, end uint64) uint64 {
	var n uint64
	for p := start &^ (pageSize - 1); p < end; p += pageSize {
		if !resident[p] {
			continue
		}
		lo, hi := max(p, start), min(p+pageSize, end)
		n += hi - lo
	}
	return n
}

// imageSpans charges the executable's bytes to packages: symbols by name, and .gopclntab by
// decoding its per-function records.
func imageSpans(f *elf.File) ([]span, error) {
	syms, err := f.Symbols()
	if err != nil {
		return nil, err
	}
	sectionOf := func(addr uint64) string {
		for _, s := range f.Sections {
			if s.Flags&elf.SHF_ALLOC != 0 && addr >= s.Addr && addr < s.Addr+s.Size {
				return s.Name
			}
		}
		return ""
	}
	var spans []span
	var gofunc uint64
	for _, s := range syms {
		if s.Name == "go:func.*" {
			gofunc = s.Value
			continue // charged per function below
		}
		if s.Size == 0 || s.Section == elf.SHN_UNDEF {
			continue
		}
		sec := sectionOf(s.Value)
		if sec == "" || sec == ".gopclntab" {
			continue
		}
		spans = append(spans, span{s.Value, s.Value + s.Size, packageOf(s.Name), sec})
	}
	pcln := f.Section(".gopclntab")
	if pcln == nil {
		return spans, nil
	}
	more, err := pclntabSpans(pcln, gofunc)
	if err != nil {
		return nil, fmt.Errorf(".gopclntab: %w", err)
	}
	return append(spans, more...), nil
}

// pclntabSpans decodes the runtime's function table (runtime/symtab.go: pcHeader, functab,
// _func) and charges each function's record, name, pc-value tables and funcdata (stack maps,
// in go:func.*) to its package. Shared pc-value tables go to the first function that names them.
func pclntabSpans(sec *elf.Section, gofunc uint64) ([]span, error) {
	data, err := sec.Data()
	if err != nil {
		return nil, err
	}
	le := binary.LittleEndian
	if len(data) < 72 || data[7] != 8 {
		return nil, fmt.Errorf("unexpected header (only 64-bit little-endian supported)")
	}
	nfunc := le.Uint64(data[8:])
	funcnameOff := le.Uint64(data[32:])
	cuOff := le.Uint64(data[40:])
	pctabOff := le.Uint64(data[56:])
	pclnOff := le.Uint64(data[64:])
	base := sec.Addr
	u32 := func(off uint64) uint32 {
		if off+4 > uint64(len(data)) {
			return 0
		}
		return le.Uint32(data[off:])
	}
	name := func(off uint64) string {
		end := off
		for end < uint64(len(data)) && data[end] != 0 {
			end++
		}
		return string(data[off:end])
	}
	type pcref struct {
		off   uint64
		owner string
	}
	var pcs, fds []pcref
	spans := []span{{base, base + funcnameOff, "(pclntab header)", ".gopclntab"},
		{base + cuOff, base + pctabOff, "(pclntab file tables)", ".gopclntab"}}
	spans = append(spans, span{base + pclnOff, base + pclnOff + (nfunc+1)*8, "(pclntab functab)", ".gopclntab"})
	for i := uint64(0); i < nfunc; i++ {
		funcOff := pclnOff + uint64(u32(pclnOff+i*8+4))
		nameOff := uint64(u32(funcOff + 4))
		fn := name(funcnameOff + nameOff)
		pkg := packageOf(fn)
		npcdata := uint64(u32(funcOff + 28))
		nfuncdata := uint64(data[funcOff+43])
		size := 44 + 4*npcdata + 4*nfuncdata
		spans = append(spans, span{base + funcOff, base + funcOff + size, pkg, ".gopclntab"})
		spans = append(spans, span{base + funcnameOff + nameOff, base + funcnameOff + nameOff + uint64(len(fn)) + 1, pkg, ".gopclntab"})
		for _, o := range []uint64{16, 20, 24} { // pcsp, pcfile, pcln
			if v := u32(funcOff + o); v != 0 {
				pcs = append(pcs, pcref{uint64(v), pkg})
			}
		}
		for j := uint64(0); j < npcdata; j++ {
			if v := u32(funcOff + 44 + 4*j); v != 0 {
				pcs = append(pcs, pcref{uint64(v), pkg})
			}
		}
		for j := uint64(0); j < nfuncdata; j++ {
			if v := u32(funcOff + 44 + 4*npcdata + 4*j); v != ^uint32(0) && gofunc != 0 {
				fds = append(fds, pcref{uint64(v), pkg})
			}
		}
	}
	// a table runs to the next table's start
	extents := func(refs []pcref, origin, limit uint64) {
		sort.SliceStable(refs, func(i, j int) bool { return refs[i].off < refs[j].off })
		for i, r := range refs {
			if i > 0 && refs[i-1].off == r.off {
				continue
			}
			end := limit
			for k := i + 1; k < len(refs); k++ {
				if refs[k].off != r.off {
					end = origin + refs[k].off
					break
				}
			}
			if origin+r.off < end {
				spans = append(spans, span{origin + r.off, end, r.owner, ".gopclntab"})
			}
		}
	}
	extents(pcs, base+pctabOff, base+pclnOff)
	if gofunc != 0 {
		extents(fds, gofunc, base+uint64(len(data)))
	}
	return spans, nil
}

// packageOf is the import path of the package a symbol belongs to.
func packageOf(sym string) string {
	for _, p := range []string{"type:", "go:itab.", "go:string.", "go:", "gclocals·"} {
		if strings.HasPrefix(sym, p) {
			if p == "go:string." || p == "gclocals·" {
				return "(" + strings.TrimSuffix(p, ".") + ")"
			}
			sym = strings.TrimLeft(strings.TrimPrefix(sym, p), "*[]0123456789")
			break
		}
	}
	if strings.HasPrefix(sym, "map[") || strings.HasPrefix(sym, "func(") || strings.HasPrefix(sym, "struct {") ||
		strings.HasPrefix(sym, "interface {") || strings.HasPrefix(sym, "chan ") || strings.HasPrefix(sym, "noalg.") {
		return "(composite types)"
	}
	slash := strings.LastIndex(sym, "/")
	if i := strings.IndexByte(sym[slash+1:], '.'); i >= 0 {
		return sym[:slash+1+i]
	}
	return sym
}

// modulePaths lists the executable's modules (its build info), longest first.
func modulePaths(exe string) []string {
	info, err := buildinfo.ReadFile(exe)
	if err != nil {
		return nil
	}
	paths := []string{info.Main.Path}
	for _, d := range info.Deps {
		paths = append(paths, d.Path)
	}
	sort.Slice(paths, func(i, j int) bool { return len(paths[i]) > len(paths[j]) })
	return paths
}

// moduleOf names a package's module; main-module packages and the standard library keep their
// package path (they are what one changes), other modules are summed.
func moduleOf(pkg string, modules []string) string {
	if strings.HasPrefix(pkg, "github.com/wasmlattice/wash") {
		return pkg
	}
	for _, m := range modules {
		if pkg == m || strings.HasPrefix(pkg, m+"/") {
			return m
		}
	}
	return pkg
}

// typeSpans charges the runtime type descriptors (one unnamed block in .rodata) to the package
// that declares each type, from the DWARF entries' DW_AT_go_runtime_type addresses; a descriptor
// runs to the next one's start.
func typeSpans(f *elf.File) []span {
	d, err := f.DWARF()
	if err != nil {
		return nil
	}
	const attrGoRuntimeType = dwarf.Attr(0x2904)
	type desc struct {
		addr uint64
		name string
	}
	var descs []desc
	r := d.Reader()
	for {
		e, err := r.Next()
		if err != nil || e == nil {
			break
		}
		addr, ok := e.Val(attrGoRuntimeType).(uint64)
		if !ok || addr == 0 {
			continue
		}
		name, _ := e.Val(dwarf.AttrName).(string)
		descs = append(descs, desc{addr, name})
	}
	sort.Slice(descs, func(i, j int) bool { return descs[i].addr < descs[j].addr })
	end := uint64(0)
	if s := f.Section(".rodata"); s != nil {
		end = s.Addr + s.Size
	}
	var spans []span
	for i, t := range descs {
		next := end
		if i+1 < len(descs) {
			next = descs[i+1].addr
		}
		if next-t.addr > 1<<16 { // the last type before strings and other data
			next = t.addr + 256
		}
		spans = append(spans, span{t.addr, next, packageOf("type:" + t.name), ".rodata"})
	}
	return spans
}
