// xml.h — the XML layer under the OVF reader: pugixml parses, this layer adds what pugixml leaves
// out and OVF needs: byte-level checks (UTF-8, XML characters, nothing before the first tag,
// duplicate attributes), no DTD and no entity but XML's five and valid character references, XML
// namespaces (every element and attribute resolved to its URI, an undeclared prefix is an error,
// xsi:type values resolved), a depth limit, and line:column locations for every element.
// Internal to ovf/.
#pragma once

#include "base/result.h"

#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <pugixml.hpp>

namespace cfm::ovf::xml {

struct Attr {
  std::string_view ns, local, qname, value;
};

struct Elem {
  std::string_view ns, local, qname;
  std::string_view xsiTypeNs, xsiTypeLocal; ///< a resolved xsi:type QName, if any
  size_t offset = 0;                        ///< of the `<` in the descriptor
  int depth = 0;
  std::vector<Attr> attrs;
  std::vector<const Elem *> kids;
  std::string text;  ///< all text and CDATA children, concatenated
  std::string cdata; ///< the CDATA children only
  bool hasCdata = false;

  const Attr *attr(std::string_view ns, std::string_view local) const;
};

struct Location {
  int line = 0, column = 0;
};

/// A parsed, namespace-resolved descriptor. Errors found while resolving namespaces do not stop
/// the build: the first is kept in firstError() so the reader can first say what the root is.
class Doc {
public:
  /// Parses TEXT (named NAME in messages). Fails for what is not well-formed XML.
  static Result<std::unique_ptr<Doc>> parse(std::string_view text, std::string name);

  const Elem &root() const { return *root_; }
  const std::optional<Error> &firstError() const { return firstError_; }
  /// True when some element of the document declares a prefix (or the default) for URI.
  bool declares(std::string_view uri) const;

  Location locate(size_t offset) const;
  int line(const Elem &e) const { return locate(e.offset).line; }
  /// An error in the descriptor at E (ErrorKind::Ovf), placed at NAME:LINE:COL (Error::loc).
  Error error(const Elem &e, const std::string &message) const {
    return errorAt(e.offset, message, ErrorKind::Ovf);
  }
  /// An error at a byte OFFSET of the descriptor; the XML layer's own errors are Syntax.
  Error errorAt(size_t offset, const std::string &message, ErrorKind kind = ErrorKind::Syntax) const;
  /// An error in the descriptor at a LINE (no column): ErrorKind::Ovf.
  Error errorAtLine(int line, const std::string &message) const;
  const std::string &name() const { return name_; }

private:
  Doc() = default;
  Result<void> build();
  Result<void> checkBytes();
  Result<void> checkMarkup();
  Result<void> checkReference(size_t at) const;

  std::string name_;
  std::string_view text_;
  pugi::xml_document doc_;
  std::deque<Elem> arena_;
  const Elem *root_ = nullptr;
  std::vector<size_t> lineStarts_;
  std::vector<std::string_view> declared_;
  std::optional<Error> firstError_;
};

} // namespace cfm::ovf::xml
