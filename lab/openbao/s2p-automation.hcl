# Policy of the collection's automation AppRole (s2p-automation): everything the
# collection does, nothing more, and no root token needed.

# KV v2 secrets under the s2p mount: data, metadata, soft delete, undelete, destroy.
path "s2p/data/*" {
  capabilities = ["create", "read", "update", "patch", "delete", "list"]
}
path "s2p/metadata" {
  capabilities = ["list"]
}
path "s2p/metadata/*" {
  capabilities = ["create", "read", "update", "patch", "delete", "list"]
}
path "s2p/delete/*" {
  capabilities = ["update"]
}
path "s2p/undelete/*" {
  capabilities = ["update"]
}
path "s2p/destroy/*" {
  capabilities = ["update"]
}
path "s2p/subkeys/*" {
  capabilities = ["read"]
}
path "s2p/config" {
  capabilities = ["read"]
}

# PKI: issue and sign through roles; read the CA, issuers and roles.
path "pki/issue/*" {
  capabilities = ["create", "update"]
}
path "pki/sign/*" {
  capabilities = ["create", "update"]
}
path "pki/roles" {
  capabilities = ["list"]
}
path "pki/roles/*" {
  capabilities = ["read"]
}
path "pki/cert/*" {
  capabilities = ["read"]
}
path "pki/certs" {
  capabilities = ["list"]
}
path "pki/ca_chain" {
  capabilities = ["read"]
}
path "pki/issuer/*" {
  capabilities = ["read"]
}

# Discovery and health.
path "sys/mounts" {
  capabilities = ["read"]
}
path "sys/mounts/*" {
  capabilities = ["read"]
}
path "sys/health" {
  capabilities = ["read"]
}

# Per-project ACL policies, only those named s2p-* (both API spellings).
path "sys/policies/acl" {
  capabilities = ["list"]
}
path "sys/policies/acl/s2p-*" {
  capabilities = ["create", "read", "update", "delete", "list"]
}
path "sys/policy" {
  capabilities = ["read"]
}
path "sys/policy/s2p-*" {
  capabilities = ["create", "read", "update", "delete"]
}

# Per-project AppRoles, only those named s2p-*, only carrying s2p-* policies
# (so no role can hand out "root" or another non-project policy).
path "auth/approle/role" {
  capabilities = ["list"]
}
path "auth/approle/role/s2p-*" {
  capabilities = ["create", "read", "update", "delete", "list"]
  allowed_parameters = {
    "token_policies" = ["s2p-*"]
    "policies"       = ["s2p-*"]
    "*"              = []
  }
  denied_parameters = {
    "token_policies" = ["s2p-automation"]
    "policies"       = ["s2p-automation"]
  }
}

# ... but never its own policy or role (that would let it grant itself anything).
path "sys/policies/acl/s2p-automation" {
  capabilities = ["deny"]
}
path "sys/policy/s2p-automation" {
  capabilities = ["deny"]
}
path "auth/approle/role/s2p-automation" {
  capabilities = ["deny"]
}
path "auth/approle/role/s2p-automation/*" {
  capabilities = ["deny"]
}

# Its own token.
path "auth/token/lookup-self" {
  capabilities = ["read"]
}
path "auth/token/renew-self" {
  capabilities = ["update"]
}
path "auth/token/revoke-self" {
  capabilities = ["update"]
}
