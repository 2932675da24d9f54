package providers

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/feature/s3/transfermanager"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

// BlobstoreS3 is the builtin name (wasmcloud+builtin://blobstore-s3).
const BlobstoreS3 = "blobstore-s3"

// S3StorageConfig is upstream blobstore-s3's StorageConfig: the JSON a link's target config
// carries as config_json (or base64 in config_b64). ForcePathStyle is wash's addition
// (default true, as upstream always uses path-style requests); false uses virtual-hosted
// buckets (bucket.endpoint).
type S3StorageConfig struct {
	AccessKeyID     string            `json:"access_key_id,omitempty"`
	SecretAccessKey string            `json:"secret_access_key,omitempty"`
	SessionToken    string            `json:"session_token,omitempty"`
	Region          string            `json:"region,omitempty"`
	MaxAttempts     int               `json:"max_attempts,omitempty"`
	Endpoint        string            `json:"endpoint,omitempty"`
	Aliases         map[string]string `json:"aliases,omitempty"`
	BucketRegion    string            `json:"bucket_region,omitempty"`
	ForcePathStyle  *bool             `json:"force_path_style,omitempty"`
}

// s3Config reads a link's target config the way upstream does: config_b64 or config_json,
// then BUCKET_REGION and alias_<name> keys; missing credentials, region and endpoint come
// from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_REGION and
// AWS_ENDPOINT.
func s3Config(link InterfaceLinkDefinition) (S3StorageConfig, error) {
	var sc S3StorageConfig
	cfg := link.TargetConfig
	switch b64, js := configValue(cfg, "config_b64"), configValue(cfg, "config_json"); {
	case b64 != "":
		raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(b64))
		if err != nil {
			return sc, fmt.Errorf("blobstore-s3: config_b64 of the link from %s is not base64: %v", link.SourceID, err)
		}
		if err := json.Unmarshal(raw, &sc); err != nil {
			return sc, fmt.Errorf("blobstore-s3: config_b64 of the link from %s is not a storage config: %v", link.SourceID, err)
		}
	case js != "":
		if err := json.Unmarshal([]byte(js), &sc); err != nil {
			return sc, fmt.Errorf("blobstore-s3: config_json of the link from %s is not a storage config: %v", link.SourceID, err)
		}
	}
	if r := configValue(cfg, "BUCKET_REGION"); r != "" {
		sc.BucketRegion = r
	}
	for k, v := range cfg {
		if alias, ok := strings.CutPrefix(k, "alias_"); ok && alias != "" && v != "" {
			if sc.Aliases == nil {
				sc.Aliases = map[string]string{}
			}
			sc.Aliases[alias] = v
		}
	}
	env := func(dst *string, name string) {
		if *dst == "" {
			*dst = os.Getenv(name)
		}
	}
	if sc.AccessKeyID == "" && sc.SecretAccessKey == "" {
		env(&sc.AccessKeyID, "AWS_ACCESS_KEY_ID")
		env(&sc.SecretAccessKey, "AWS_SECRET_ACCESS_KEY")
		env(&sc.SessionToken, "AWS_SESSION_TOKEN")
	}
	env(&sc.Region, "AWS_REGION")
	env(&sc.Endpoint, "AWS_ENDPOINT")
	if sc.Region == "" {
		sc.Region = "us-east-1"
	}
	if sc.Endpoint != "" {
		if u, err := url.Parse(sc.Endpoint); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return sc, fmt.Errorf("blobstore-s3: endpoint %q of the link from %s is not an http(s) URL", sc.Endpoint, link.SourceID)
		}
	}
	if sc.AccessKeyID == "" || sc.SecretAccessKey == "" {
		return sc, fmt.Errorf("blobstore-s3: the link from %s to %s has no credentials: put access_key_id and secret_access_key in its config_json (or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY for the host)", link.SourceID, link.Target)
	}
	return sc, nil
}

// BlobstoreS3Provider is the built-in blobstore-s3 provider: wasi:blobstore on any S3
// endpoint (AWS, or S3-compatible servers through endpoint), containers as buckets. Clients
// are shared by links with the same settings.
type BlobstoreS3Provider struct {
	configPerCall // DeleteLink: clients are kept per settings
	mu            sync.Mutex
	clients       map[string]*s3Backend
}

func newBlobstoreS3() *BlobstoreS3Provider {
	return &BlobstoreS3Provider{clients: map[string]*s3Backend{}}
}

// PutLink reports a link whose storage config is unusable now (the host logs it).
func (p *BlobstoreS3Provider) PutLink(_ context.Context, l Link) error {
	return checkTargetConfig(l, "wasi", "blobstore", s3Config)
}

// Stop forgets the clients (they hold only idle HTTP connections).
func (p *BlobstoreS3Provider) Stop(context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clients = map[string]*s3Backend{}
	return nil
}

// OpenBlobstore serves a call through link (BlobstoreOpener).
func (p *BlobstoreS3Provider) OpenBlobstore(_ context.Context, link InterfaceLinkDefinition) (BlobBackend, error) {
	sc, err := s3Config(link)
	if err != nil {
		return nil, err
	}
	js, _ := json.Marshal(sc)
	sum := sha256.Sum256(js)
	key := hex.EncodeToString(sum[:])
	p.mu.Lock()
	defer p.mu.Unlock()
	if b := p.clients[key]; b != nil {
		return b, nil
	}
	pathStyle := sc.ForcePathStyle == nil || *sc.ForcePathStyle
	opts := s3.Options{
		Region:                     sc.Region,
		Credentials:                credentials.NewStaticCredentialsProvider(sc.AccessKeyID, sc.SecretAccessKey, sc.SessionToken),
		UsePathStyle:               pathStyle,
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
		RetryMaxAttempts:           sc.MaxAttempts,
	}
	if sc.Endpoint != "" {
		opts.BaseEndpoint = aws.String(sc.Endpoint)
	}
	client := s3.New(opts)
	b := &s3Backend{client: client, tm: transfermanager.New(client), aliases: sc.Aliases, bucketRegion: sc.BucketRegion,
		endpoint: sc.Endpoint}
	p.clients[key] = b
	return b, nil
}

type s3Backend struct {
	client       *s3.Client
	tm           *transfermanager.Client
	aliases      map[string]string
	bucketRegion string
	endpoint     string
}

// bucket resolves a container name through the link's aliases ("alias_" prefix optional).
func (b *s3Backend) bucket(name string) string {
	n := strings.TrimPrefix(name, "alias_")
	if real, ok := b.aliases[n]; ok {
		return real
	}
	return n
}

// s3Err turns an SDK error into one line: the S3 error code and message, and what was asked.
func (b *s3Backend) s3Err(what string, err error) error {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return fmt.Errorf("blobstore-s3: %s: %s: %s", what, ae.ErrorCode(), ae.ErrorMessage())
	}
	return fmt.Errorf("blobstore-s3: %s: %v", what, err)
}

func isNotFound(err error) bool {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		switch ae.ErrorCode() {
		case "NotFound", "NoSuchKey", "NoSuchBucket", "404":
			return true
		}
	}
	var nf *types.NotFound
	return errors.As(err, &nf)
}

func (b *s3Backend) CreateContainer(ctx context.Context, name string) error {
	in := &s3.CreateBucketInput{Bucket: aws.String(b.bucket(name))}
	if b.bucketRegion != "" && b.bucketRegion != "us-east-1" {
		in.CreateBucketConfiguration = &types.CreateBucketConfiguration{LocationConstraint: types.BucketLocationConstraint(b.bucketRegion)}
	}
	if _, err := b.client.CreateBucket(ctx, in); err != nil {
		return b.s3Err(fmt.Sprintf("creating container %q", name), err)
	}
	return nil
}

func (b *s3Backend) GetContainer(ctx context.Context, name string) error {
	ok, err := b.ContainerExists(ctx, name)
	return existingContainer(name, ok, err)
}

func (b *s3Backend) ContainerExists(ctx context.Context, name string) (bool, error) {
	_, err := b.client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(b.bucket(name))})
	if isNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, b.s3Err(fmt.Sprintf("container %q", name), err)
	}
	return true, nil
}

func (b *s3Backend) DeleteContainer(ctx context.Context, name string) error {
	if _, err := b.client.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String(b.bucket(name))}); err != nil {
		return b.s3Err(fmt.Sprintf("deleting container %q", name), err)
	}
	return nil
}

func (b *s3Backend) ContainerInfo(ctx context.Context, name string) (uint64, error) {
	if err := b.GetContainer(ctx, name); err != nil {
		return 0, err
	}
	out, err := b.client.ListBuckets(ctx, &s3.ListBucketsInput{Prefix: aws.String(b.bucket(name))})
	if err != nil {
		return 0, nil // creation time is optional information
	}
	for _, bk := range out.Buckets {
		if aws.ToString(bk.Name) == b.bucket(name) && bk.CreationDate != nil {
			return uint64(max(bk.CreationDate.Unix(), 0)), nil
		}
	}
	return 0, nil
}

func (b *s3Backend) ReadObject(ctx context.Context, c, o string, start, end uint64) (io.ReadCloser, uint64, error) {
	if start > end {
		return io.NopCloser(strings.NewReader("")), 0, nil
	}
	rng := fmt.Sprintf("bytes=%d-", start)
	if end < 1<<63 {
		rng = fmt.Sprintf("bytes=%d-%d", start, end)
	}
	out, err := b.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b.bucket(c)), Key: aws.String(o), Range: aws.String(rng)})
	if err != nil {
		var ae smithy.APIError
		if errors.As(err, &ae) && ae.ErrorCode() == "InvalidRange" {
			return io.NopCloser(strings.NewReader("")), 0, nil // start past the end
		}
		if isNotFound(err) {
			return nil, 0, fmt.Errorf("object %q in container %q does not exist", o, c)
		}
		return nil, 0, b.s3Err(fmt.Sprintf("reading object %q in container %q", o, c), err)
	}
	return out.Body, uint64(max(aws.ToInt64(out.ContentLength), 0)), nil
}

func (b *s3Backend) WriteObject(ctx context.Context, c, o string, r io.Reader) error {
	if _, err := b.tm.UploadObject(ctx, &transfermanager.UploadObjectInput{Bucket: aws.String(b.bucket(c)), Key: aws.String(o), Body: r}); err != nil {
		return b.s3Err(fmt.Sprintf("writing object %q in container %q", o, c), err)
	}
	return nil
}

func (b *s3Backend) DeleteObject(ctx context.Context, c, o string) error {
	if _, err := b.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(b.bucket(c)), Key: aws.String(o)}); err != nil && !isNotFound(err) {
		return b.s3Err(fmt.Sprintf("deleting object %q in container %q", o, c), err)
	}
	return nil
}

func (b *s3Backend) StatObject(ctx context.Context, c, o string) (uint64, uint64, bool, error) {
	out, err := b.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(b.bucket(c)), Key: aws.String(o)})
	if isNotFound(err) {
		return 0, 0, false, nil
	}
	if err != nil {
		return 0, 0, false, b.s3Err(fmt.Sprintf("object %q in container %q", o, c), err)
	}
	var created uint64
	if out.LastModified != nil {
		created = uint64(max(out.LastModified.Unix(), 0))
	}
	return uint64(max(aws.ToInt64(out.ContentLength), 0)), created, true, nil
}

func (b *s3Backend) ListObjects(ctx context.Context, c string) ([]string, error) {
	var names []string
	pages := s3.NewListObjectsV2Paginator(b.client, &s3.ListObjectsV2Input{Bucket: aws.String(b.bucket(c))})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			if isNotFound(err) {
				return nil, fmt.Errorf("container %q does not exist", c)
			}
			return nil, b.s3Err(fmt.Sprintf("listing container %q", c), err)
		}
		for _, obj := range page.Contents {
			names = append(names, aws.ToString(obj.Key))
		}
	}
	return names, nil
}

func (b *s3Backend) ClearContainer(ctx context.Context, c string) error {
	names, err := b.ListObjects(ctx, c)
	if err != nil {
		return err
	}
	for len(names) > 0 {
		n := min(len(names), 1000)
		ids := make([]types.ObjectIdentifier, n)
		for i, name := range names[:n] {
			ids[i] = types.ObjectIdentifier{Key: aws.String(name)}
		}
		out, err := b.client.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String(b.bucket(c)), Delete: &types.Delete{Objects: ids, Quiet: aws.Bool(true)}})
		if err != nil {
			return b.s3Err(fmt.Sprintf("clearing container %q", c), err)
		}
		if len(out.Errors) > 0 {
			e := out.Errors[0]
			return fmt.Errorf("blobstore-s3: clearing container %q: %s: %s", c, aws.ToString(e.Key), aws.ToString(e.Message))
		}
		names = names[n:]
	}
	return nil
}

func (b *s3Backend) CopyObject(ctx context.Context, sc, so, dc, do string) error {
	src := b.bucket(sc) + "/" + url.PathEscape(so)
	src = strings.ReplaceAll(src, "%2F", "/")
	if _, err := b.client.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String(b.bucket(dc)), Key: aws.String(do), CopySource: aws.String(src)}); err != nil {
		return b.s3Err(fmt.Sprintf("copying object %q in container %q to %q in %q", so, sc, do, dc), err)
	}
	return nil
}

func (b *s3Backend) MoveObject(ctx context.Context, sc, so, dc, do string) error {
	if err := b.CopyObject(ctx, sc, so, dc, do); err != nil {
		return err
	}
	return b.DeleteObject(ctx, sc, so)
}
