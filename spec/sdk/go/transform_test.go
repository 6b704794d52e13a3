package cases

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"hash"
	"strings"
)

// rsaOAEP computes {"$rsa_oaep": {"key", "hash", "data"}}: RSA-OAEP with
// MGF1 of the same hash, of Base64 data under a Base64 DER or PEM key.
func rsaOAEP(arg any) (any, error) {
	var a struct{ Key, Hash, Data string }
	raw, err := json.Marshal(arg)
	if err == nil {
		err = json.Unmarshal(raw, &a)
	}
	if err != nil {
		return nil, fmt.Errorf("$rsa_oaep: %v", err)
	}
	pub, err := rsaPublicKey(a.Key)
	if err != nil {
		return nil, fmt.Errorf("$rsa_oaep key: %v", err)
	}
	data, err := base64.StdEncoding.DecodeString(a.Data)
	if err != nil {
		return nil, fmt.Errorf("$rsa_oaep data: %v", err)
	}
	var h hash.Hash
	switch a.Hash {
	case "SHA1":
		h = sha1.New()
	case "SHA256":
		h = sha256.New()
	default:
		return nil, fmt.Errorf("$rsa_oaep: unknown hash %q", a.Hash)
	}
	out, err := rsa.EncryptOAEP(h, rand.Reader, pub, data, nil)
	if err != nil {
		return nil, fmt.Errorf("$rsa_oaep: %v", err)
	}
	return base64.StdEncoding.EncodeToString(out), nil
}

func rsaPublicKey(text string) (*rsa.PublicKey, error) {
	var der []byte
	if strings.HasPrefix(strings.TrimSpace(text), "-----BEGIN") {
		block, _ := pem.Decode([]byte(text))
		if block == nil {
			return nil, fmt.Errorf("no PEM block")
		}
		der = block.Bytes
	} else {
		var err error
		if der, err = base64.StdEncoding.DecodeString(text); err != nil {
			return nil, err
		}
	}
	key, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, err
	}
	pub, ok := key.(*rsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("%T is not an RSA key", key)
	}
	return pub, nil
}
