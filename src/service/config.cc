#include "service/config.h"

#include <toml++/toml.h>

#include <set>

namespace hokan {
namespace {

Status CheckKnownKeys(const toml::table& table, const std::string& where,
                      const std::set<std::string, std::less<>>& known, const std::string& path) {
  for (const auto& [key, value] : table) {
    if (!known.contains(key.str())) {
      std::string msg = path;
      msg += ": unknown key '";
      msg += where;
      msg += key.str();
      msg += "' (line " + std::to_string(value.source().begin.line) + ")";
      return InvalidArgumentError(std::move(msg));
    }
  }
  return OkStatus();
}

}  // namespace

Result<Config> ParseConfig(std::string_view text, const std::string& path) {
  toml::table root;
  try {
    root = toml::parse(text, path);
  } catch (const toml::parse_error& err) {
    return InvalidArgumentError(path + ":" + std::to_string(err.source().begin.line) + ": " +
                                std::string(err.description()));
  }
  HK_RETURN_IF_ERROR(CheckKnownKeys(root, "", {"store", "keys", "audit"}, path));
  Config c;
  auto table = [&](std::string_view name) -> const toml::table* {
    const toml::node* n = root.get(name);
    return n ? n->as_table() : nullptr;
  };
  if (const toml::table* t = table("store")) {
    HK_RETURN_IF_ERROR(CheckKnownKeys(*t, "store.", {"id", "max_content_bytes"}, path));
    if (auto v = (*t)["id"].value<std::string>()) c.store_id = *v;
    if (const toml::node* n = t->get("max_content_bytes")) {
      auto v = n->value<std::int64_t>();
      if (!v || *v <= 0) {
        return InvalidArgumentError(path + ": store.max_content_bytes must be a positive integer");
      }
      c.max_content_bytes = static_cast<std::uint64_t>(*v);
    }
  }
  if (const toml::table* t = table("keys")) {
    HK_RETURN_IF_ERROR(CheckKnownKeys(*t, "keys.", {"kek_file", "audit_signing_key_file"}, path));
    if (auto v = (*t)["kek_file"].value<std::string>()) c.kek_file = *v;
    if (auto v = (*t)["audit_signing_key_file"].value<std::string>()) c.audit_key_file = *v;
  }
  if (const toml::table* t = table("audit")) {
    HK_RETURN_IF_ERROR(CheckKnownKeys(*t, "audit.", {"checkpoint_every_entries"}, path));
    if (const toml::node* n = t->get("checkpoint_every_entries")) {
      auto v = n->value<std::int64_t>();
      if (!v || *v <= 0) {
        return InvalidArgumentError(path +
                                    ": audit.checkpoint_every_entries must be a positive integer");
      }
      c.checkpoint_every_entries = static_cast<std::uint64_t>(*v);
    }
  }
  if (c.store_id.size() != 32) {
    return InvalidArgumentError(path + ": store.id is missing or malformed");
  }
  return c;
}

std::string RenderConfig(const Config& c) {
  return "# hokan configuration, written by `hokan init`.\n"
         "# Every key is described in docs/configuration.md. Unknown keys are an error.\n"
         "\n"
         "[store]\n"
         "# The store's identity. It is bound into every encrypted blob and every audit\n"
         "# checkpoint; never change it.\n"
         "id = \"" +
         c.store_id +
         "\"\n"
         "# Largest content accepted for one version, in bytes. Larger uploads are refused\n"
         "# before anything is written.\n"
         "max_content_bytes = " +
         std::to_string(c.max_content_bytes) +
         "\n"
         "\n"
         "[keys]\n"
         "# Key-encryption key (wraps every version's data key). Relative paths are inside the\n"
         "# data directory. Keep a copy apart from the data backups; without it nothing can be\n"
         "# read. The file must be mode 0600.\n"
         "kek_file = \"" +
         c.kek_file +
         "\"\n"
         "# Ed25519 key that signs audit checkpoints (mode 0600).\n"
         "audit_signing_key_file = \"" +
         c.audit_key_file +
         "\"\n"
         "\n"
         "[audit]\n"
         "# A command that wrote audit entries signs a checkpoint at its end once at least this\n"
         "# many entries are not yet covered by one. 1 = after every command.\n"
         "checkpoint_every_entries = " +
         std::to_string(c.checkpoint_every_entries) + "\n";
}

}  // namespace hokan
