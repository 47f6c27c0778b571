package federation

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
)

// maxKeyBits bounds the RSA keys accepted from peers: verifying with a huge
// key is a cheap way to burn a node's CPU.
const maxKeyBits = 8192

// ParsePrivateKey reads an RSA private key in PKCS#8 or PKCS#1 PEM.
func ParsePrivateKey(pemBytes []byte) (*rsa.PrivateKey, error) {
	block, _ := pem.Decode(pemBytes)
	if block == nil {
		return nil, errors.New("federation: private key is not PEM")
	}
	if k, err := x509.ParsePKCS8PrivateKey(block.Bytes); err == nil {
		rk, ok := k.(*rsa.PrivateKey)
		if !ok {
			return nil, errors.New("federation: private key is not RSA")
		}
		return rk, nil
	}
	k, err := x509.ParsePKCS1PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("federation: parse private key: %w", err)
	}
	return k, nil
}

// PublicKeyPEM encodes pub as the PKIX PEM that actors publish.
func PublicKeyPEM(pub *rsa.PublicKey) string {
	der, _ := x509.MarshalPKIXPublicKey(pub)
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

// ParsePublicKeyPEM reads a peer's published RSA key (PKIX, or PKCS#1 as
// some servers write it), refusing keys too small or too large.
func ParsePublicKeyPEM(s string) (*rsa.PublicKey, error) {
	if len(s) > 16<<10 {
		return nil, errors.New("federation: public key too large")
	}
	block, _ := pem.Decode([]byte(s))
	if block == nil {
		return nil, errors.New("federation: public key is not PEM")
	}
	var pub *rsa.PublicKey
	if k, err := x509.ParsePKIXPublicKey(block.Bytes); err == nil {
		rk, ok := k.(*rsa.PublicKey)
		if !ok {
			return nil, errors.New("federation: public key is not RSA")
		}
		pub = rk
	} else if rk, err := x509.ParsePKCS1PublicKey(block.Bytes); err == nil {
		pub = rk
	} else {
		return nil, fmt.Errorf("federation: parse public key: %w", err)
	}
	if bits := pub.N.BitLen(); bits < 2048 || bits > maxKeyBits {
		return nil, fmt.Errorf("federation: RSA key of %d bits refused (2048 to %d)", bits, maxKeyBits)
	}
	return pub, nil
}
