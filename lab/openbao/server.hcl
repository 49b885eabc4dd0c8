# OpenBao server for the S2P lab, rendered by lab/services/openbao.py (string.Template).
# Production-like: raft storage, TLS from the lab CA, sealed after every restart.
# OpenBao 2.x has no "file" storage and does not support disable_mlock: both left out.
ui            = false
api_addr      = "https://$host:$api_port"
cluster_addr  = "https://$host:$cluster_port"

storage "raft" {
  path    = "$raft_dir"
  node_id = "s2p-lab-1"
}

listener "tcp" {
  address         = "$host:$api_port"
  cluster_address = "$host:$cluster_port"
  tls_cert_file   = "$tls_cert"
  tls_key_file    = "$tls_key"
}
