package functions

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// LocalCodeBucket is the Code.S3Bucket that makes Code.S3Key a path on this
// machine (the local cloud has no S3).
const LocalCodeBucket = "local"

// InProcessKey, as Code.S3Key with LocalCodeBucket, declares a function whose
// code is a Go handler registered with RegisterHandler or RegisterFunc.
const InProcessKey = "in-process"

// bootstrapName is the executable an OS-only runtime starts.
const bootstrapName = "bootstrap"

// code is a function's deployment package as the local cloud keeps it.
type code struct {
	// taskRoot is LAMBDA_TASK_ROOT and the runtime's working directory.
	taskRoot string
	// bootstrap is the executable to start; it may not exist (Lambda finds
	// out at the first invocation, not at upload).
	bootstrap string
	inProcess bool
	sha256    string
	size      int64
	location  string
}

// codeSource is the part of CreateFunction's and UpdateFunctionCode's input
// that says where the code is.
type codeSource struct {
	zipFile         []byte
	s3Bucket, s3Key *string
	s3Version       *string
	imageURI        *string
}

// load turns a code source into code, unpacking a zip under dir.
func loadCode(src codeSource, dir string) (code, error) {
	sources := 0
	if src.zipFile != nil {
		sources++
	}
	if src.s3Bucket != nil || src.s3Key != nil {
		sources++
	}
	if src.imageURI != nil {
		sources++
	}
	switch {
	case sources == 0:
		return code{}, invalidParameter("Please provide a source for function code.")
	case sources > 1:
		return code{}, invalidParameter("Please provide exactly one source for function code: ZipFile, S3Bucket and S3Key, or ImageUri.")
	case src.imageURI != nil:
		return code{}, invalidParameter("The local cloud runs only .zip deployment packages (PackageType Zip), not container images.")
	case src.zipFile != nil:
		return unzipCode(src.zipFile, dir)
	}
	bucket, key := deref(src.s3Bucket), deref(src.s3Key)
	if bucket == "" || key == "" {
		return code{}, invalidParameter("Please provide both S3Bucket and S3Key for function code in S3.")
	}
	if bucket != LocalCodeBucket {
		return code{}, invalidParameter("Error occurred while GetObject. S3 Error Code: NoSuchBucket. S3 Error Message: The specified bucket does not exist (the local cloud has no S3: use S3Bucket %q with S3Key set to the absolute path of a bootstrap executable or of its directory).", LocalCodeBucket)
	}
	if key == InProcessKey {
		sum := sha256.Sum256([]byte(InProcessKey))
		return code{inProcess: true, sha256: base64.StdEncoding.EncodeToString(sum[:]), location: "in-process:"}, nil
	}
	return localCode(key)
}

// localCode uses a bootstrap binary, or a directory holding one, in place.
func localCode(path string) (code, error) {
	if !filepath.IsAbs(path) {
		return code{}, invalidParameter("S3Key must be an absolute path when S3Bucket is %q, got %q.", LocalCodeBucket, path)
	}
	info, err := os.Stat(path)
	if err != nil {
		return code{}, invalidParameter("Error occurred while GetObject. S3 Error Code: NoSuchKey. S3 Error Message: The specified key does not exist. (%s)", path)
	}
	c := code{taskRoot: path, bootstrap: filepath.Join(path, bootstrapName), location: "file://" + path}
	if !info.IsDir() {
		c.taskRoot, c.bootstrap = filepath.Dir(path), path
	}
	f, err := os.Open(c.bootstrap)
	if err != nil {
		// Lambda accepts a package without a bootstrap; invocations then fail
		// with Runtime.InvalidEntrypoint.
		sum := sha256.Sum256([]byte(path))
		c.sha256 = base64.StdEncoding.EncodeToString(sum[:])
		return c, nil
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return code{}, fmt.Errorf("functions: hash %s: %w", c.bootstrap, err)
	}
	c.sha256, c.size = base64.StdEncoding.EncodeToString(h.Sum(nil)), n
	return c, nil
}

// unzipCode unpacks a deployment package into dir, keeping file modes (a
// bootstrap zipped without its executable bit fails at invocation, as in
// Lambda).
func unzipCode(data []byte, dir string) (code, error) {
	bad := invalidParameter("Could not unzip uploaded file. Please check your file, then try to upload again.")
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return code{}, bad
	}
	var total uint64
	for _, f := range zr.File {
		total += f.UncompressedSize64
	}
	if total > maxUnzipped {
		return code{}, invalidParameter("Unzipped size must be smaller than %d bytes", maxUnzipped)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return code{}, fmt.Errorf("functions: make code directory: %w", err)
	}
	for _, f := range zr.File {
		name := filepath.FromSlash(f.Name)
		if !filepath.IsLocal(name) {
			return code{}, bad
		}
		dst := filepath.Join(dir, name)
		if f.FileInfo().IsDir() {
			if err := os.MkdirAll(dst, 0o755); err != nil {
				return code{}, fmt.Errorf("functions: unpack %s: %w", f.Name, err)
			}
			continue
		}
		if err := writeZipEntry(f, dst); err != nil {
			if errors.Is(err, zip.ErrFormat) || errors.Is(err, zip.ErrChecksum) || errors.Is(err, zip.ErrAlgorithm) {
				return code{}, bad
			}
			return code{}, fmt.Errorf("functions: unpack %s: %w", f.Name, err)
		}
	}
	sum := sha256.Sum256(data)
	return code{
		taskRoot:  dir,
		bootstrap: filepath.Join(dir, bootstrapName),
		sha256:    base64.StdEncoding.EncodeToString(sum[:]),
		size:      int64(len(data)),
		location:  "file://" + dir,
	}, nil
}

func writeZipEntry(f *zip.File, dst string) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	rc, err := f.Open()
	if err != nil {
		return err
	}
	defer rc.Close()
	mode := f.Mode().Perm()
	if mode == 0 {
		mode = 0o644
	}
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, io.LimitReader(rc, maxUnzipped+1)); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// safeName makes a string usable as one path element.
func safeName(s string) string {
	return strings.NewReplacer("/", "_", "$", "_", ":", "_").Replace(s)
}
