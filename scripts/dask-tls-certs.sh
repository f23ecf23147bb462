#!/bin/sh
# Makes a private certificate authority for a Dask grading cluster, and one certificate signed by
# it for the scheduler, the workers and the grading command (Dask's TLS is mutual: a peer without
# a certificate from this CA cannot connect). Needs the `openssl` command.
#   sh scripts/dask-tls-certs.sh DIR [DAYS]
# writes DIR/ca.pem (give to every machine), DIR/node.pem and DIR/node-key.pem (give to the
# scheduler, the workers and the grader's machine only), and DIR/ca-key.pem (keep it offline: who
# holds it can admit anyone to the cluster). Nothing is overwritten.
set -eu
DIR="${1:?usage: sh scripts/dask-tls-certs.sh DIR [DAYS]}"
DAYS="${2:-180}"
command -v openssl >/dev/null 2>&1 || { echo "openssl is needed (apt-get install openssl)" >&2; exit 2; }
for name in ca.pem ca-key.pem node.pem node-key.pem; do
    [ ! -e "$DIR/$name" ] || { echo "$DIR/$name exists; choose an empty folder" >&2; exit 2; }
done
mkdir -p "$DIR"
umask 077
openssl req -x509 -newkey rsa:3072 -nodes -days "$DAYS" -subj "/CN=autograder dask CA" \
    -keyout "$DIR/ca-key.pem" -out "$DIR/ca.pem" 2>/dev/null
openssl req -newkey rsa:3072 -nodes -subj "/CN=autograder dask node" \
    -keyout "$DIR/node-key.pem" -out "$DIR/node.csr" 2>/dev/null
printf 'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth,clientAuth\n' \
    > "$DIR/node.ext"
openssl x509 -req -in "$DIR/node.csr" -CA "$DIR/ca.pem" -CAkey "$DIR/ca-key.pem" -CAcreateserial \
    -days "$DAYS" -extfile "$DIR/node.ext" -out "$DIR/node.pem" 2>/dev/null
rm -f "$DIR/node.csr" "$DIR/node.ext" "$DIR/ca.srl"
chmod 644 "$DIR/ca.pem"
echo "wrote $DIR/ca.pem, $DIR/node.pem, $DIR/node-key.pem (and $DIR/ca-key.pem: keep it offline)" >&2
