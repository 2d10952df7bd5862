#include "image/json_input.h"

#include "sys/error.h"

#include <vector>

namespace strata {
namespace {

using nlohmann::json;

// Where in the document a parse stopped: the members and elements open at that point,
// followed by a SAX pass that builds nothing.
class PathTracker : public json::json_sax_t {
public:
  std::string where() const {
    std::string out;
    for (const Frame& f : frames_) {
      if (f.array) out += fmt::format("[{}]", f.index);
      else if (f.has_key) out += (out.empty() ? "" : ".") + f.key;
    }
    return out.empty() ? "the top" : "'" + out + "'";
  }
  const std::string& reason() const { return reason_; }

  bool null() override { return value(); }
  bool boolean(bool) override { return value(); }
  bool number_integer(number_integer_t) override { return value(); }
  bool number_unsigned(number_unsigned_t) override { return value(); }
  bool number_float(number_float_t, const string_t&) override { return value(); }
  bool string(string_t&) override { return value(); }
  bool binary(binary_t&) override { return value(); }
  bool start_object(std::size_t) override {
    frames_.push_back({});
    return true;
  }
  bool key(string_t& k) override {
    frames_.back().key = k;
    frames_.back().has_key = true;
    return true;
  }
  bool end_object() override { return close(); }
  bool start_array(std::size_t) override {
    frames_.push_back({true});
    return true;
  }
  bool end_array() override { return close(); }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception& e) override {
    reason_ = e.what();
    return false;
  }

private:
  struct Frame {
    bool array = false;
    size_t index = 0;
    bool has_key = false;
    std::string key;
  };
  bool value() {
    if (!frames_.empty() && frames_.back().array) ++frames_.back().index;
    return true;
  }
  bool close() {
    frames_.pop_back();
    return value();
  }
  std::vector<Frame> frames_;
  std::string reason_;
};

// "[json.exception.parse_error.101] parse error at line 1, column 2: …" without the prefix.
std::string readable(std::string message) {
  if (message.rfind("[json.exception.", 0) == 0)
    if (auto end = message.find("] "); end != std::string::npos) message.erase(0, end + 2);
  return message;
}

// The byte offset where nesting first goes deeper than max_json_depth, if it does.
std::optional<size_t> too_deep_at(std::string_view text) {
  size_t depth = 0;
  bool in_string = false, escaped = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > max_json_depth) return i;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return std::nullopt;
}

} // namespace

json parse_json_input(std::string_view text, const std::string& what) {
  if (auto at = too_deep_at(text))
    fail_input("{} is not valid JSON: it is nested more than {} levels deep (at byte {})", what, max_json_depth, *at);
  try {
    return json::parse(text);
  } catch (const json::exception& e) {
    PathTracker tracker;
    json::sax_parse(text, &tracker);
    fail_input("{} is not valid JSON at {}: {}", what, tracker.where(),
               readable(tracker.reason().empty() ? e.what() : tracker.reason()));
  }
}

} // namespace strata
