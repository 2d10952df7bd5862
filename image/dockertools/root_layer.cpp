#include "image/dockertools/root_layer.h"

#include "image/dockertools/customisation.h"
#include "image/shadow.h"
#include "sys/error.h"
#include "sys/files.h"
#include "sys/temp.h"

#include <algorithm>
#include <fcntl.h>
#include <sys/stat.h>

namespace strata {
namespace {

// Layer order compares paths component by component: '/' sorts before every other byte.
bool layer_order_less(const std::string& a, const std::string& b) {
  size_t n = std::min(a.size(), b.size());
  for (size_t i = 0; i < n; ++i) {
    if (a[i] == b[i]) continue;
    if (a[i] == '/') return true;
    if (b[i] == '/') return false;
    return static_cast<unsigned char>(a[i]) < static_cast<unsigned char>(b[i]);
  }
  return a.size() < b.size();
}

} // namespace

// A root script's diff, held as metadata (file content is read again from the upper dir
// when written), merged in layer order with the entries of mapped trees.
class RootLayer::DiffMerger {
public:
  DiffMerger(std::string upper, std::vector<LayerEntry> diff) : upper_(std::move(upper)), diff_(std::move(diff)) {}

  EntryVisitor wrap(const EntryVisitor& visit) {
    return [this, &visit](LayerEntry& e) {
      flush_before(e.path, visit);
      if (next_ < diff_.size() && diff_[next_].path == e.path) {
        emit(diff_[next_++], visit); // the script's version wins
        return;
      }
      visit(e);
    };
  }
  void flush(const EntryVisitor& visit) {
    while (next_ < diff_.size()) emit(diff_[next_++], visit);
  }

private:
  void flush_before(const std::string& path, const EntryVisitor& visit) {
    while (next_ < diff_.size() && layer_order_less(diff_[next_].path, path)) emit(diff_[next_++], visit);
  }
  void emit(LayerEntry& e, const EntryVisitor& visit) {
    Fd content;
    bool whiteout = basename_of(e.path).rfind(".wh.", 0) == 0;
    if (e.type == EntryType::File && e.size > 0 && !whiteout) {
      content = open_or_fail(upper_ + "/" + e.path, O_RDONLY | O_NOFOLLOW);
      e.content_fd = content.get();
    }
    visit(e);
    e.content_fd = -1;
  }

  std::string upper_;
  std::vector<LayerEntry> diff_;
  size_t next_ = 0;
};



RootLayer::RootLayer(const Spec& spec, const ImageSource* base, const std::vector<TreeMapping>& contents,
                     RootScriptRunner& runner, int64_t mtime, const std::function<void(const std::string&)>& step,
                     std::function<void()> meanwhile) {
  upper_ = std::make_unique<ScratchDir>(runner);
  for (const auto& m : contents) copy_contents_into(m.host_path, upper_->upper());
  // shadowSetup over a base: only where the merged image lacks the files, so run in the
  // script, where the base is visible.
  if (spec.shadow_setup && !base) shadow_setup(upper_->upper());
  if (step) step("running runAsRoot");
  RootScriptRequest request;
  request.base = base;
  request.upper = upper_->upper();
  request.script = spec.shadow_setup && base ? shadow_setup_script() + spec.run_as_root : spec.run_as_root;
  request.store_dir = spec.store_dir;
  request.env.push_back("shadowSetup=" + shadow_setup_script()); // as dockerTools gives runAsRoot
  request.meanwhile = std::move(meanwhile);
  report_ = runner.run(request);
  if (report_.exit_status != 0) fail_root_script(report_, "runAsRoot");
  if (!spec.extra_commands.empty()) {
    if (step) step("running extraCommands");
    run_extra_commands(&runner, spec, upper_->upper());
  }
  std::vector<LayerEntry> diff;
  runner.walk_upper(upper_->upper(), mtime, [&](LayerEntry& e) {
    diff.push_back(e);
    diff.back().content_fd = -1;
  });
  diff_ = std::make_unique<DiffMerger>(upper_->upper(), std::move(diff));
}

RootLayer::~RootLayer() = default;

const std::string& RootLayer::upper_dir() const { return upper_->upper(); }

TreeStats RootLayer::walk(const std::vector<TreeMapping>& mappings, const TreeOptions& options,
                          const EntryVisitor& visit) {
  TreeStats stats = walk_trees(mappings, options, diff_->wrap(visit));
  diff_->flush(visit);
  return stats;
}

} // namespace strata
