#include "support/temp_tree.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <unistd.h>

namespace fs = std::filesystem;

namespace wattprint::testing {

TempTree::TempTree() {
  const char* tmp = std::getenv("TMPDIR");
  std::string tmpl = std::string(tmp && *tmp ? tmp : "/tmp") + "/wattprint-test-XXXXXX";
  if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
  root_ = tmpl;
}

TempTree::~TempTree() {
  std::error_code ec;
  fs::remove_all(root_, ec);
}

std::string TempTree::Path(std::string_view rel) const {
  if (rel.empty()) return root_;
  return root_ + "/" + std::string(rel);
}

void TempTree::Write(std::string_view rel, std::string_view content) const {
  fs::path p = Path(rel);
  fs::create_directories(p.parent_path());
  fs::path tmp = p;
  tmp += ".tmp~";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(content.data(), static_cast<std::streamsize>(content.size()));
    if (!out) throw std::runtime_error("write failed: " + tmp.string());
  }
  fs::rename(tmp, p);
}

void TempTree::Mkdir(std::string_view rel) const { fs::create_directories(Path(rel)); }

void TempTree::Symlink(std::string_view target, std::string_view rel) const {
  fs::path p = Path(rel);
  fs::create_directories(p.parent_path());
  fs::create_symlink(std::string(target), p);
}

void TempTree::Remove(std::string_view rel) const { fs::remove_all(Path(rel)); }

void TempTree::CopyFrom(const std::string& src_dir, std::string_view rel) const {
  fs::path dst = Path(rel);
  fs::create_directories(dst);
  fs::copy(src_dir, dst, fs::copy_options::recursive | fs::copy_options::copy_symlinks |
                             fs::copy_options::overwrite_existing);
}

}  // namespace wattprint::testing
