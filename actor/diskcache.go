package actor

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/tetratelabs/wazero"

	"github.com/theater-go/theater/actor/internal/meter"
	"github.com/theater-go/theater/actor/internal/preinit"
)

// With [WithCacheDir], the cache directory holds two caches:
//
//   - modules/: the code each module compiles to, its image or its
//     metered form (a module that gets no image), so that a module is
//     metered and pre-initialised once per machine. A file is named by
//     the module's digest and the versions of the metering pass and of
//     the image format, so a new version of either misses every file of
//     the old one. Its contents are checked against a SHA-256 they carry
//     before use.
//   - wazero/: wazero's compilation cache, machine code. wazero checks
//     only the code's CRC, not the offsets beside it, so each of its files
//     gets a sidecar holding its SHA-256 once it is written, and a file
//     whose sidecar is missing or differs is deleted when a runtime opens
//     the directory, before wazero can read it.
//
// A corrupted file is deleted and its module compiled again, never run.
// The directory must be writable only by the node: whoever can write it
// chooses the code the node runs.
const (
	modulesDir = "modules"
	wazeroDir  = "wazero"
	sumSuffix  = ".theater-sha256"
)

// cacheMagic starts every file of modules/: the format's name and version.
var cacheMagic = []byte("theater-module\x00\x01")

// Kinds of cached code.
const (
	cachedImage   = 'i'
	cachedMetered = 'm'
)

// errCacheFile is why a file of modules/ was not used.
var errCacheFile = errors.New("actor: corrupt module cache file")

// diskCache is the modules/ cache.
type diskCache struct{ dir string }

func (c *diskCache) path(d Digest, preinitOn bool) string {
	name := fmt.Sprintf("%s-meter%d", hex.EncodeToString(d[:]), meter.Version)
	if preinitOn {
		name += fmt.Sprintf("-preinit%d", preinit.Version)
	}
	return filepath.Join(c.dir, name)
}

// cached is what a file of modules/ holds.
type cached struct {
	kind   byte
	reason string // why a metered module got no image
	code   []byte
}

// encodeCached is the file format: magic, SHA-256 of the rest, kind,
// uvarint length of reason, reason, code.
func encodeCached(e cached) []byte {
	body := append([]byte{e.kind}, binary.AppendUvarint(nil, uint64(len(e.reason)))...)
	body = append(append(body, e.reason...), e.code...)
	sum := sha256.Sum256(body)
	return append(append(append([]byte(nil), cacheMagic...), sum[:]...), body...)
}

// decodeCached checks and decodes a file of modules/. The code it returns
// aliases b.
func decodeCached(b []byte) (cached, error) {
	var e cached
	if !bytes.HasPrefix(b, cacheMagic) || len(b) < len(cacheMagic)+sha256.Size+2 {
		return e, fmt.Errorf("%w: bad header", errCacheFile)
	}
	sum, body := b[len(cacheMagic):len(cacheMagic)+sha256.Size], b[len(cacheMagic)+sha256.Size:]
	if got := sha256.Sum256(body); !bytes.Equal(got[:], sum) {
		return e, fmt.Errorf("%w: checksum mismatch", errCacheFile)
	}
	e.kind = body[0]
	if e.kind != cachedImage && e.kind != cachedMetered {
		return e, fmt.Errorf("%w: kind %q", errCacheFile, e.kind)
	}
	n, k := binary.Uvarint(body[1:])
	if k <= 0 || n > uint64(len(body)-1-k) {
		return e, fmt.Errorf("%w: bad reason length", errCacheFile)
	}
	e.reason = string(body[1+k : 1+k+int(n)])
	e.code = body[1+k+int(n):]
	return e, nil
}

// load returns the cached code of a module; ok is false on a miss. A
// file that does not check is deleted and counted.
func (r *Runtime) loadCached(d Digest) (e cached, meta preinit.Meta, ok bool) {
	path := r.disk.path(d, !r.opts.noPreinit)
	b, err := os.ReadFile(path)
	if err != nil {
		return e, meta, false
	}
	e, err = decodeCached(b)
	if err == nil && e.kind == cachedImage {
		var isImage bool
		if meta, isImage, err = preinit.ReadMeta(e.code); err == nil && !isImage {
			err = fmt.Errorf("%w: image without meta", errCacheFile)
		}
	}
	if err == nil && e.kind == cachedImage && r.opts.noPreinit {
		err = fmt.Errorf("%w: an image in the cache of metered modules", errCacheFile)
	}
	if err != nil {
		r.stats.diskCorrupt.Add(1)
		r.opts.logger.Warn("actor: module cache file deleted", "file", path, "err", err)
		os.Remove(path)
		return e, meta, false
	}
	r.stats.diskHits.Add(1)
	return e, meta, true
}

// storeCached writes a module's code to the cache; a failure is logged
// and otherwise ignored (the cache is an optimisation).
func (r *Runtime) storeCached(d Digest, e cached) {
	if err := writeAtomic(r.disk.path(d, !r.opts.noPreinit), encodeCached(e)); err != nil {
		r.opts.logger.Warn("actor: module cache write failed", "err", err)
	}
}

// writeAtomic writes b to path through a temporary file and a rename, so
// that a reader sees the whole file or none.
func writeAtomic(path string, b []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
	}
	return err
}

// wazeroFiles calls fn with the path of every file of wazero's cache
// (wazero keeps them in a directory per version and platform), sidecars
// and temporary files left out.
func wazeroFiles(dir string, fn func(path string) error) error {
	return filepath.WalkDir(dir, func(path string, e fs.DirEntry, err error) error {
		if err != nil || !e.Type().IsRegular() || strings.HasSuffix(path, sumSuffix) || strings.HasSuffix(path, ".tmp") {
			return err
		}
		return fn(path)
	})
}

// verified remembers, per process, the files of wazero's cache whose
// contents matched their sidecar, by size and modification time, so that
// a process opening many runtimes on one directory hashes each file once.
// Writing a file changes its modification time, so a file changed since
// is hashed again.
var verified sync.Map // path -> stamp

type stamp struct {
	size int64
	mod  time.Time
}

func stampOf(path string) (stamp, bool) {
	info, err := os.Stat(path)
	if err != nil {
		return stamp{}, false
	}
	return stamp{info.Size(), info.ModTime()}, true
}

// checkWazeroCache deletes every file of wazero's cache whose sidecar is
// missing or does not match it, and returns how many it deleted.
func checkWazeroCache(dir string) (int, error) {
	deleted := 0
	err := wazeroFiles(dir, func(path string) error {
		st, ok := stampOf(path)
		if v, seen := verified.Load(path); ok && seen && v.(stamp) == st {
			if _, err := os.Stat(path + sumSuffix); err == nil {
				return nil
			}
		}
		want, err := os.ReadFile(path + sumSuffix)
		if err == nil {
			var b []byte
			if b, err = os.ReadFile(path); err == nil {
				if sum := sha256.Sum256(b); hex.EncodeToString(sum[:]) != string(want) {
					err = errCacheFile
				}
			}
		}
		if err != nil {
			deleted++
			verified.Delete(path)
			os.Remove(path + sumSuffix)
			if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return err
			}
			return nil
		}
		if ok {
			verified.Store(path, st)
		}
		return nil
	})
	return deleted, err
}

// sealWazeroCache writes the sidecar of every file of wazero's cache that
// has none: the files wazero wrote since the last call.
func sealWazeroCache(dir string) error {
	return wazeroFiles(dir, func(path string) error {
		if _, err := os.Stat(path + sumSuffix); err == nil {
			return nil
		}
		st, ok := stampOf(path)
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		if err := writeAtomic(path+sumSuffix, []byte(hex.EncodeToString(sum[:]))); err != nil {
			return err
		}
		if ok {
			verified.Store(path, st)
		}
		return nil
	})
}

// openCacheDir makes the cache directory's two caches, deleting the files
// of wazero's that do not check.
func (r *Runtime) openCacheDir() error {
	mods, wz := filepath.Join(r.opts.cacheDir, modulesDir), filepath.Join(r.opts.cacheDir, wazeroDir)
	for _, d := range []string{mods, wz} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return fmt.Errorf("actor: cache directory: %w", err)
		}
	}
	n, err := checkWazeroCache(wz)
	if err != nil {
		return fmt.Errorf("actor: cache directory: %w", err)
	}
	if n > 0 {
		r.stats.diskCorrupt.Add(uint64(n))
		r.opts.logger.Warn("actor: compilation cache files deleted", "dir", wz, "files", n)
	}
	r.disk = &diskCache{dir: mods}
	r.cache, err = wazero.NewCompilationCacheWithDir(wz)
	if err != nil {
		return fmt.Errorf("actor: compilation cache: %w", err)
	}
	return nil
}
