# SPDX-License-Identifier: MIT
# Certificates for the TLS tests, made by openssl in $P ($T/pki): ca NAME makes a self-signed CA,
# cert NAME CA DAYS SAN a certificate it signs (DAYS -1: expired). UNTRUSTED matches OpenSSL's words
# for a chain it cannot trust (the server may send its CA along).
P="$T/pki"
mkdir -p "$P"
newkey() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:prime256v1 -out "$P/$1.key" 2>/dev/null; }
ca() {
        newkey "$1"
        openssl req -x509 -new -key "$P/$1.key" -out "$P/$1.crt" -days 30 -subj "/CN=jobs test $1" 2>/dev/null
}
cert() {
        newkey "$1"
        openssl req -new -key "$P/$1.key" -out "$P/$1.csr" -subj "/CN=$1" -addext "subjectAltName=$4" 2>/dev/null
        openssl x509 -req -in "$P/$1.csr" -CA "$P/$2.crt" -CAkey "$P/$2.key" -CAcreateserial -days "$3" \
                -copy_extensions copy -out "$P/$1.crt" 2>/dev/null
}
UNTRUSTED="unable to get local issuer certificate|self-signed certificate in certificate chain"
