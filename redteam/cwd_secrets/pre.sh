#!/bin/bash
# the user's project directory (pipjail's cwd) holds secrets (fixtures)
echo "API_KEY=cwdenvSECRET0001abcdef" > $W/.env
printf -- "-----BEGIN OPENSSH PRIVATE KEY-----\ncwdidrsaSECRET0002abcdef\n-----END OPENSSH PRIVATE KEY-----\n" > $W/id_rsa
echo "machine x login y password cwdnetrcSECRET0003abc" > $W/.netrc
echo '{"private_key": "cwdcredsSECRET0004abcdef"}' > $W/credentials.json
printf "[pypi]\npassword = cwdpypircSECRET0005abc\n" > $W/.pypirc
echo "cwdtxtSECRET0006abcdef" > $W/secrets.txt
chown pjtestrt1: $W/.env $W/id_rsa $W/.netrc $W/credentials.json $W/.pypirc $W/secrets.txt
chmod 600 $W/.env $W/id_rsa $W/.netrc $W/credentials.json $W/.pypirc $W/secrets.txt
