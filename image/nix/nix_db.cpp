#include "image/nix/nix_db.h"

#include "image/closure/store_path.h"
#include "image/nix/nar_hash_text.h"
#include "sys/error.h"
#include "sys/files.h"
#include "sys/temp.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <fcntl.h>
#include <map>
#include <memory>
#include <set>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

namespace strata::nix {
namespace {

// The tables, indexes and trigger of Nix's schema.sql (schema version 10). The
// content-addressed-derivation tables (Realisations, RealisationsRefs) are left out on
// purpose: Nix creates them itself, together with its own migration marker, when the
// ca-derivations feature is on, and their layout has changed between Nix releases.
constexpr const char* schema_sql = R"sql(
create table if not exists ValidPaths (
    id               integer primary key autoincrement not null,
    path             text unique not null,
    hash             text not null,
    registrationTime integer not null,
    deriver          text,
    narSize          integer,
    ultimate         integer,
    sigs             text,
    ca               text
);
create table if not exists Refs (
    referrer  integer not null,
    reference integer not null,
    primary key (referrer, reference),
    foreign key (referrer) references ValidPaths(id) on delete cascade,
    foreign key (reference) references ValidPaths(id) on delete restrict
);
create index if not exists IndexReferrer on Refs(referrer);
create index if not exists IndexReference on Refs(reference);
create trigger if not exists DeleteSelfRefs before delete on ValidPaths
  begin
    delete from Refs where referrer = old.id and reference = old.id;
  end;
create table if not exists DerivationOutputs (
    drv  integer not null,
    id   text not null,
    path text not null,
    primary key (drv, id),
    foreign key (drv) references ValidPaths(id) on delete cascade
);
create index if not exists IndexDerivationOutputs on DerivationOutputs(path);
)sql";

class Database {
public:
  explicit Database(const std::string& file) : file_(file) {
    sqlite3* db = nullptr;
    int rc = ::sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
    db_.reset(db);
    if (rc != SQLITE_OK)
      fail_work("cannot create the Nix database {}: {}", file, db ? ::sqlite3_errmsg(db) : "out of memory");
  }
  sqlite3* get() const { return db_.get(); }
  const std::string& file() const { return file_; }

  void exec(const char* sql) {
    char* message = nullptr;
    if (::sqlite3_exec(db_.get(), sql, nullptr, nullptr, &message) != SQLITE_OK) {
      std::string text = message ? message : ::sqlite3_errmsg(db_.get());
      ::sqlite3_free(message);
      fail_work("cannot write the Nix database {}: {}", file_, text);
    }
  }

  void close() {
    if (::sqlite3_close(db_.release()) != SQLITE_OK) fail_work("cannot close the Nix database {}", file_);
  }

private:
  struct Close {
    void operator()(sqlite3* db) const { ::sqlite3_close_v2(db); }
  };
  std::string file_;
  std::unique_ptr<sqlite3, Close> db_;
};

class Statement {
public:
  Statement(Database& db, const char* sql) : db_(db) {
    sqlite3_stmt* stmt = nullptr;
    if (::sqlite3_prepare_v2(db.get(), sql, -1, &stmt, nullptr) != SQLITE_OK)
      fail_work("cannot prepare a statement on {}: {}", db.file(), ::sqlite3_errmsg(db.get()));
    stmt_.reset(stmt);
  }
  Statement& text(int index, const std::string& value) {
    check(::sqlite3_bind_text(stmt_.get(), index, value.data(), static_cast<int>(value.size()), SQLITE_TRANSIENT));
    return *this;
  }
  Statement& integer(int index, int64_t value) {
    check(::sqlite3_bind_int64(stmt_.get(), index, value));
    return *this;
  }
  Statement& null(int index) {
    check(::sqlite3_bind_null(stmt_.get(), index));
    return *this;
  }
  void run() {
    if (::sqlite3_step(stmt_.get()) != SQLITE_DONE)
      fail_work("cannot write the Nix database {}: {}", db_.file(), ::sqlite3_errmsg(db_.get()));
    ::sqlite3_reset(stmt_.get());
    ::sqlite3_clear_bindings(stmt_.get());
  }

private:
  void check(int rc) {
    if (rc != SQLITE_OK) fail_work("cannot bind a value on {}: {}", db_.file(), ::sqlite3_errmsg(db_.get()));
  }
  struct Finalize {
    void operator()(sqlite3_stmt* stmt) const { ::sqlite3_finalize(stmt); }
  };
  Database& db_;
  std::unique_ptr<sqlite3_stmt, Finalize> stmt_;
};

std::string basename_of_store_path(const std::string& path) { return path.substr(path.rfind('/') + 1); }

void check_store_path(const std::string& path, const std::string& store_dir, std::string_view role) {
  if (!closure::is_store_path(path, store_dir))
    fail_input("{} {} is not a store path in {} (expected {}/<32-char hash>-<name>)", role, path, store_dir, store_dir);
}

// Creates root/rel and the dirs between, each one it creates with mode 0755 whatever the
// umask, so the image comes out the same; dirs that exist are left as they are.
void make_dirs_under(const std::string& root, std::string_view rel) {
  std::string dir = root;
  while (!rel.empty()) {
    while (!rel.empty() && rel.front() == '/') rel.remove_prefix(1);
    size_t end = rel.find('/');
    std::string_view part = rel.substr(0, end);
    rel.remove_prefix(end == std::string_view::npos ? rel.size() : end);
    if (part.empty()) continue;
    dir += "/";
    dir += part;
    if (::mkdir(dir.c_str(), 0755) == 0) {
      if (::chmod(dir.c_str(), 0755) < 0) fail_errno(fmt::format("cannot set the mode of {}", dir));
    } else if (errno != EEXIST || !is_directory(dir)) {
      fail_errno(fmt::format("cannot create the directory {}", dir));
    }
  }
}

// Makes `link` a symlink to `target`, replacing an earlier symlink there.
void replace_symlink(const std::string& target, const std::string& link) {
  struct stat st;
  if (::lstat(link.c_str(), &st) == 0) {
    if (!S_ISLNK(st.st_mode)) fail_input("{} exists and is not a symlink; cannot make it a Nix gc root", link);
    if (::unlink(link.c_str()) < 0) fail_errno(fmt::format("cannot replace {}", link));
  }
  if (::symlink(target.c_str(), link.c_str()) < 0) fail_errno(fmt::format("cannot create the symlink {}", link));
}

void write_small_file(const std::string& path, std::string_view contents) {
  write_file(path, contents, 0644);
  if (::chmod(path.c_str(), 0644) < 0) fail_errno(fmt::format("cannot set the mode of {}", path));
}

// Puts the finished db dir at `target`, swapping out an earlier one in one step.
void install_dir(const std::string& staged, const std::string& target) {
  if (::rename(staged.c_str(), target.c_str()) == 0) return;
  if (errno != ENOTEMPTY && errno != EEXIST) fail_errno(fmt::format("cannot move the Nix database into {}", target));
  if (::renameat2(AT_FDCWD, staged.c_str(), AT_FDCWD, target.c_str(), RENAME_EXCHANGE) < 0)
    fail_errno(fmt::format("cannot replace the Nix database at {}", target));
  remove_tree(staged); // now holds the earlier db
}

// Numbers the (sorted) paths from 1, checking that the set is consistent: no path twice,
// every reference registered, every hash a SHA-256 digest.
std::map<std::string, int64_t> assign_ids(const std::vector<const PathRegistration*>& sorted) {
  std::map<std::string, int64_t> ids;
  for (const auto* p : sorted) {
    if (p->nar_hash.size() != sha256_size)
      fail_input("the NAR hash given for {} is not a SHA-256 digest ({} bytes)", p->path, p->nar_hash.size());
    if (!ids.emplace(p->path, static_cast<int64_t>(ids.size()) + 1).second)
      fail_input("store path {} is registered twice", p->path);
  }
  for (const auto* p : sorted)
    for (const auto& r : p->references)
      if (!ids.count(r))
        fail_input("store path {} references {}, which is not in the closure being registered", p->path, r);
  return ids;
}

} // namespace

void write_nix_sqlite(const std::string& file, const std::vector<PathRegistration>& paths) {
  // Ids follow path order, so the same set of paths always gets the same rows.
  std::vector<const PathRegistration*> sorted;
  for (const auto& p : paths) sorted.push_back(&p);
  std::sort(sorted.begin(), sorted.end(), [](auto* a, auto* b) { return a->path < b->path; });
  std::map<std::string, int64_t> ids = assign_ids(sorted);
  std::vector<std::pair<int64_t, int64_t>> refs;
  for (const auto* p : sorted)
    for (const auto& r : p->references) refs.emplace_back(ids.at(p->path), ids.at(r));
  std::sort(refs.begin(), refs.end());
  refs.erase(std::unique(refs.begin(), refs.end()), refs.end());

  if (path_exists(file)) fail_work("cannot create the Nix database {}: it exists", file);
  Database db(file);
  db.exec("pragma page_size = 4096; pragma journal_mode = delete; pragma synchronous = off; "
          "pragma foreign_keys = on;");
  db.exec("begin");
  db.exec(schema_sql);
  {
    Statement insert_path(db, "insert into ValidPaths (id, path, hash, registrationTime, deriver, narSize) "
                              "values (?, ?, ?, ?, ?, ?)");
    for (const auto* p : sorted) {
      insert_path.integer(1, ids.at(p->path)).text(2, p->path).text(3, sha256_base16_text(p->nar_hash));
      insert_path.integer(4, p->registration_time);
      if (p->deriver.empty())
        insert_path.null(5);
      else
        insert_path.text(5, p->deriver);
      insert_path.integer(6, static_cast<int64_t>(p->nar_size)).run();
    }
    Statement insert_ref(db, "insert into Refs (referrer, reference) values (?, ?)");
    for (auto [referrer, reference] : refs) insert_ref.integer(1, referrer).integer(2, reference).run();
  } // statements are finalized before the database closes
  db.exec("commit");
  db.exec("vacuum");
  db.close();
  if (::chmod(file.c_str(), 0644) < 0) fail_errno(fmt::format("cannot set the mode of {}", file));
}

void write_nix_state(const std::string& root, const std::vector<PathRegistration>& paths,
                     const NixStateOptions& options) {
  const std::string& store_dir = options.store_dir;
  if (store_dir.empty() || store_dir[0] != '/' || store_dir.back() == '/')
    fail_input("store dir {} must be an absolute path without a trailing slash", store_dir);
  if (!is_directory(root)) fail_input("image root {} is not a directory", root);
  std::set<std::string> registered;
  for (const auto& p : paths) {
    check_store_path(p.path, store_dir, "path");
    for (const auto& r : p.references) check_store_path(r, store_dir, "reference");
    if (!p.deriver.empty()) check_store_path(p.deriver, store_dir, "deriver");
    registered.insert(p.path);
  }
  std::vector<const PathRegistration*> all;
  for (const auto& p : paths) all.push_back(&p);
  std::sort(all.begin(), all.end(), [](auto* a, auto* b) { return a->path < b->path; });
  assign_ids(all);
  for (const auto& g : options.gc_roots) {
    check_store_path(g, store_dir, "gc root");
    if (!registered.count(g)) fail_input("gc root {} is not among the registered store paths", g);
  }

  const std::string state = root + "/nix/var/nix";
  make_dirs_under(root, "nix/var/nix");
  const std::string db_dir = state + "/db";
  TempDir staged(".db.strata", state);
  if (::chmod(staged.path().c_str(), 0755) < 0) fail_errno(fmt::format("cannot set the mode of {}", staged.path()));
  write_nix_sqlite(staged.path() + "/db.sqlite", paths);
  write_small_file(staged.path() + "/schema", std::to_string(nix_schema_version));

  for (const char* dir : {"profiles/per-user", "gcroots/per-user", "gcroots/docker", "temproots"})
    make_dirs_under(state, dir);
  replace_symlink("/nix/var/nix/profiles", state + "/gcroots/profiles");
  for (const auto& g : options.gc_roots) replace_symlink(g, state + "/gcroots/docker/" + basename_of_store_path(g));
  make_dirs_under(root, store_dir + "/.links");

  install_dir(staged.path(), db_dir);
  staged.release();
}

} // namespace strata::nix
