#include "vault/config/hcl.h"

#include "vault/base/utf8.h"

#include <charconv>
#include <cstdio>
#include <map>
#include <utility>

namespace coffer::config {
namespace {

enum class Tok {
  kEnd,
  kIdent,
  kString,
  kNumber,
  kLBrace,
  kRBrace,
  kLBracket,
  kRBracket,
  kEquals,
  kColon,
  kComma
};

struct Token {
  Tok kind = Tok::kEnd;
  std::string text;  // identifier name, decoded string, or number spelling
  int line = 1;
};

enum class Syntax { kHcl, kJson };

Status syntax_error(std::string_view source, int line, std::string_view what) {
  return invalid_argument(std::string(source) + ":" + std::to_string(line) + ": " +
                          std::string(what));
}

// Describes a token for an error message without repeating string contents or bare words, which
// may be misplaced secrets.
std::string describe(const Token& t) {
  switch (t.kind) {
    case Tok::kEnd:
      return "end of input";
    case Tok::kIdent:
      return "a bare word";
    case Tok::kString:
      return "a string";
    case Tok::kNumber:
      return "a number";
    case Tok::kLBrace:
      return "`{`";
    case Tok::kRBrace:
      return "`}`";
    case Tok::kLBracket:
      return "`[`";
    case Tok::kRBracket:
      return "`]`";
    case Tok::kEquals:
      return "`=`";
    case Tok::kColon:
      return "`:`";
    case Tok::kComma:
      return "`,`";
  }
  return "a token";
}

bool is_ident_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_ident_char(char c) { return is_ident_start(c) || is_digit(c) || c == '-' || c == '.'; }

class Lexer {
 public:
  Lexer(std::string_view text, std::string_view source, Syntax syntax)
      : text_(text), source_(source), syntax_(syntax) {}

  Result<std::vector<Token>> run() {
    std::vector<Token> tokens;
    while (true) {
      COFFER_TRY(skip_space_and_comments());
      Token t;
      t.line = line_;
      if (pos_ >= text_.size()) {
        tokens.push_back(std::move(t));
        return tokens;
      }
      const char c = text_[pos_];
      switch (c) {
        case '{':
          t.kind = Tok::kLBrace;
          ++pos_;
          break;
        case '}':
          t.kind = Tok::kRBrace;
          ++pos_;
          break;
        case '[':
          t.kind = Tok::kLBracket;
          ++pos_;
          break;
        case ']':
          t.kind = Tok::kRBracket;
          ++pos_;
          break;
        case '=':
          t.kind = Tok::kEquals;
          ++pos_;
          break;
        case ':':
          t.kind = Tok::kColon;
          ++pos_;
          break;
        case ',':
          t.kind = Tok::kComma;
          ++pos_;
          break;
        case '"': {
          t.kind = Tok::kString;
          COFFER_ASSIGN_OR_RETURN(t.text, string_literal());
          break;
        }
        default:
          if (is_digit(c) || c == '-') {
            t.kind = Tok::kNumber;
            COFFER_ASSIGN_OR_RETURN(t.text, number());
          } else if (is_ident_start(c)) {
            t.kind = Tok::kIdent;
            const std::size_t start = pos_;
            while (pos_ < text_.size() && is_ident_char(text_[pos_])) ++pos_;
            t.text = std::string(text_.substr(start, pos_ - start));
          } else {
            return fail(error(unexpected_char(c)));
          }
      }
      tokens.push_back(std::move(t));
    }
  }

 private:
  Status error(std::string_view what) const { return syntax_error(source_, line_, what); }

  static std::string unexpected_char(char c) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x21 && u < 0x7F) return std::string("unexpected character `") + c + "`";
    char hex[8];
    std::snprintf(hex, sizeof hex, "0x%02X", u);
    return std::string("unexpected byte ") + hex;
  }

  Status skip_space_and_comments() {
    while (pos_ < text_.size()) {
      const char c = text_[pos_];
      if (c == '\n') {
        ++line_;
        ++pos_;
      } else if (c == ' ' || c == '\t' || c == '\r') {
        ++pos_;
      } else if (syntax_ == Syntax::kHcl && (c == '#' || text_.substr(pos_, 2) == "//")) {
        while (pos_ < text_.size() && text_[pos_] != '\n') ++pos_;
      } else if (syntax_ == Syntax::kHcl && text_.substr(pos_, 2) == "/*") {
        const int start_line = line_;
        pos_ += 2;
        while (pos_ < text_.size() && text_.substr(pos_, 2) != "*/") {
          if (text_[pos_] == '\n') ++line_;
          ++pos_;
        }
        if (pos_ >= text_.size()) {
          return syntax_error(source_, start_line, "unterminated /* comment");
        }
        pos_ += 2;
      } else {
        break;
      }
    }
    return ok_status();
  }

  Result<std::uint32_t> hex4() {
    if (text_.size() - pos_ < 4) return fail(error("truncated \\u escape in string"));
    std::uint32_t v = 0;
    const auto [end, ec] = std::from_chars(text_.data() + pos_, text_.data() + pos_ + 4, v, 16);
    if (ec != std::errc() || end != text_.data() + pos_ + 4) {
      return fail(error("invalid \\u escape in string"));
    }
    pos_ += 4;
    return v;
  }

  // At the opening quote; returns the decoded contents.
  Result<std::string> string_literal() {
    const int start_line = line_;
    ++pos_;
    std::string out;
    while (true) {
      if (pos_ >= text_.size() || text_[pos_] == '\n') {
        return fail(syntax_error(source_, start_line, "unterminated string"));
      }
      const char c = text_[pos_++];
      if (c == '"') return out;
      if (c != '\\') {
        out.push_back(c);
        continue;
      }
      if (pos_ >= text_.size())
        return fail(syntax_error(source_, start_line, "unterminated string"));
      const char e = text_[pos_++];
      if (auto c = simple_escape(e)) {
        out.push_back(*c);
        continue;
      }
      switch (e) {
        case 'u': {
          COFFER_ASSIGN_OR_RETURN(std::uint32_t cp, hex4());
          if (cp >= 0xDC00 && cp <= 0xDFFF) return fail(error("unpaired surrogate in \\u escape"));
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            // A high surrogate must be followed by an escaped low surrogate.
            if (text_.substr(pos_, 2) != "\\u")
              return fail(error("unpaired surrogate in \\u escape"));
            pos_ += 2;
            COFFER_ASSIGN_OR_RETURN(std::uint32_t low, hex4());
            if (low < 0xDC00 || low > 0xDFFF)
              return fail(error("unpaired surrogate in \\u escape"));
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          }
          append_utf8(out, cp);
          break;
        }
        default:
          return fail(error(std::string("unknown escape \\") +
                            (static_cast<unsigned char>(e) < 0x80 ? std::string(1, e) : "?") +
                            " in string"));
      }
    }
  }

  // -?digits[.digits][(e|E)[+-]digits], not followed by a name character.
  Result<std::string> number() {
    const std::size_t start = pos_;
    auto digits = [&] {
      const std::size_t from = pos_;
      while (pos_ < text_.size() && is_digit(text_[pos_])) ++pos_;
      return pos_ > from;
    };
    if (text_[pos_] == '-') ++pos_;
    bool ok = digits();
    if (ok && pos_ < text_.size() && text_[pos_] == '.') {
      ++pos_;
      ok = digits();
    }
    if (ok && pos_ < text_.size() && (text_[pos_] == 'e' || text_[pos_] == 'E')) {
      ++pos_;
      if (pos_ < text_.size() && (text_[pos_] == '+' || text_[pos_] == '-')) ++pos_;
      ok = digits();
    }
    if (!ok || (pos_ < text_.size() && is_ident_char(text_[pos_]))) {
      return fail(
          error("invalid number (durations and sizes with units must be quoted, e.g. \"30s\")"));
    }
    return std::string(text_.substr(start, pos_ - start));
  }

  std::string_view text_;
  std::string_view source_;
  Syntax syntax_;
  std::size_t pos_ = 0;
  int line_ = 1;
};

class Parser {
 public:
  Parser(std::vector<Token> tokens, std::string_view source)
      : tokens_(std::move(tokens)), source_(source) {}

  Result<HclValue> hcl_document() {
    COFFER_ASSIGN_OR_RETURN(HclValue root, hcl_body(/*open_line=*/0, /*depth=*/0));
    root.line = 1;
    return root;
  }

  Result<HclValue> json_document() {
    COFFER_ASSIGN_OR_RETURN(HclValue root, json_value(0));
    if (peek().kind != Tok::kEnd) {
      return fail(
          error(peek().line, "unexpected " + describe(peek()) + " after the JSON document"));
    }
    return root;
  }

 private:
  const Token& peek() const { return tokens_[pos_]; }
  // The lexer always ends the vector with kEnd, and nothing advances past it.
  const Token& advance() { return tokens_[pos_ < tokens_.size() - 1 ? pos_++ : pos_]; }

  Status error(int line, std::string_view what) const { return syntax_error(source_, line, what); }

  Status check_depth(int depth) const {
    if (depth > kMaxNestingDepth) {
      return error(peek().line,
                   "nesting deeper than " + std::to_string(kMaxNestingDepth) + " levels");
    }
    return ok_status();
  }

  Result<HclValue> scalar(const Token& t) {
    HclValue v;
    v.line = t.line;
    if (t.kind == Tok::kString) {
      v.kind = HclValue::Kind::kString;
      v.string = t.text;
      return v;
    }
    // Number token.
    const char* first = t.text.data();
    const char* last = first + t.text.size();
    if (t.text.find_first_of(".eE") == std::string::npos) {
      v.kind = HclValue::Kind::kInteger;
      const auto [end, ec] = std::from_chars(first, last, v.integer);
      if (ec != std::errc() || end != last) return fail(error(t.line, "integer out of range"));
    } else {
      v.kind = HclValue::Kind::kFloat;
      const auto [end, ec] = std::from_chars(first, last, v.floating);
      if (ec != std::errc() || end != last) return fail(error(t.line, "number out of range"));
    }
    return v;
  }

  // Parses `item*` up to `}` (when open_line > 0, i.e. inside braces) or the end of input.
  Result<HclValue> hcl_body(int open_line, int depth) {
    COFFER_TRY(check_depth(depth));
    HclValue object;
    object.kind = HclValue::Kind::kObject;
    object.line = open_line;
    while (true) {
      const Token& t = peek();
      if (t.kind == Tok::kEnd) {
        if (open_line > 0)
          return fail(
              error(t.line, "missing `}` for the `{` at line " + std::to_string(open_line)));
        return object;
      }
      if (t.kind == Tok::kRBrace) {
        if (open_line == 0) return fail(error(t.line, "unexpected `}` with no open block"));
        advance();
        return object;
      }
      if (t.kind != Tok::kIdent && t.kind != Tok::kString) {
        return fail(error(t.line, "expected a key, found " + describe(t)));
      }
      HclMember member;
      member.key = advance().text;
      member.line = t.line;
      const Token& after = peek();
      if (after.kind == Tok::kEquals) {
        advance();
        COFFER_ASSIGN_OR_RETURN(member.value, hcl_value(depth + 1));
      } else if (after.kind == Tok::kLBrace || after.kind == Tok::kString ||
                 after.kind == Tok::kIdent) {
        COFFER_ASSIGN_OR_RETURN(member.value, hcl_block(member, depth + 1));
      } else {
        return fail(error(after.line, "expected `=` or a block after key \"" + member.key +
                                          "\", found " + describe(after)));
      }
      object.members.push_back(std::move(member));
      if (peek().kind == Tok::kComma) advance();
    }
  }

  // After a block's name: `label* { body }`, nested one object per label.
  Result<HclValue> hcl_block(const HclMember& name, int depth) {
    std::vector<std::string> labels;
    while (peek().kind == Tok::kString || peek().kind == Tok::kIdent)
      labels.push_back(advance().text);
    if (peek().kind != Tok::kLBrace) {
      return fail(error(peek().line, "expected `{` to open block \"" + name.key + "\", found " +
                                         describe(peek())));
    }
    const int open_line = advance().line;
    COFFER_ASSIGN_OR_RETURN(HclValue body,
                            hcl_body(open_line, depth + static_cast<int>(labels.size())));
    body.line = name.line;
    for (auto it = labels.rbegin(); it != labels.rend(); ++it) {
      HclValue wrapper;
      wrapper.kind = HclValue::Kind::kObject;
      wrapper.line = name.line;
      wrapper.members.push_back(HclMember{std::move(*it), name.line, std::move(body)});
      body = std::move(wrapper);
    }
    return body;
  }

  Result<HclValue> hcl_value(int depth) {
    COFFER_TRY(check_depth(depth));
    const Token& t = advance();
    switch (t.kind) {
      case Tok::kString:
      case Tok::kNumber:
        return scalar(t);
      case Tok::kIdent:
        if (t.text == "true" || t.text == "false") {
          HclValue v;
          v.kind = HclValue::Kind::kBool;
          v.boolean = t.text == "true";
          v.line = t.line;
          return v;
        }
        return fail(error(t.line, "expected a value, found a bare word (strings must be quoted)"));
      case Tok::kLBracket: {
        HclValue list;
        list.kind = HclValue::Kind::kList;
        list.line = t.line;
        while (peek().kind != Tok::kRBracket) {
          COFFER_ASSIGN_OR_RETURN(HclValue item, hcl_value(depth + 1));
          list.list.push_back(std::move(item));
          if (peek().kind == Tok::kComma) {
            advance();
          } else if (peek().kind != Tok::kRBracket) {
            return fail(error(peek().line, "expected `,` or `]` in the list opened at line " +
                                               std::to_string(list.line) + ", found " +
                                               describe(peek())));
          }
        }
        advance();
        return list;
      }
      case Tok::kLBrace:
        return hcl_body(t.line, depth + 1);
      default:
        return fail(error(t.line, "expected a value, found " + describe(t)));
    }
  }

  Status expect(Tok kind, std::string_view what) {
    if (peek().kind != kind)
      return error(peek().line, "expected " + std::string(what) + ", found " + describe(peek()));
    advance();
    return ok_status();
  }

  Result<HclValue> json_value(int depth) {
    COFFER_TRY(check_depth(depth));
    const Token& t = advance();
    HclValue v;
    v.line = t.line;
    switch (t.kind) {
      case Tok::kString:
      case Tok::kNumber:
        return scalar(t);
      case Tok::kIdent:
        if (t.text == "true" || t.text == "false") {
          v.kind = HclValue::Kind::kBool;
          v.boolean = t.text == "true";
          return v;
        }
        if (t.text == "null") return v;
        return fail(error(t.line, "expected a JSON value, found a bare word"));
      case Tok::kLBracket:
        v.kind = HclValue::Kind::kList;
        if (peek().kind == Tok::kRBracket) {
          advance();
          return v;
        }
        while (true) {
          COFFER_ASSIGN_OR_RETURN(HclValue item, json_value(depth + 1));
          v.list.push_back(std::move(item));
          if (peek().kind == Tok::kRBracket) {
            advance();
            return v;
          }
          COFFER_TRY(expect(Tok::kComma, "`,` or `]`"));
        }
      case Tok::kLBrace:
        v.kind = HclValue::Kind::kObject;
        if (peek().kind == Tok::kRBrace) {
          advance();
          return v;
        }
        while (true) {
          if (peek().kind != Tok::kString) {
            return fail(error(peek().line, "expected a quoted key, found " + describe(peek())));
          }
          HclMember member;
          member.line = peek().line;
          member.key = advance().text;
          COFFER_TRY(expect(Tok::kColon, "`:`"));
          COFFER_ASSIGN_OR_RETURN(member.value, json_value(depth + 1));
          v.members.push_back(std::move(member));
          if (peek().kind == Tok::kRBrace) {
            advance();
            return v;
          }
          COFFER_TRY(expect(Tok::kComma, "`,` or `}`"));
        }
      default:
        return fail(error(t.line, "expected a JSON value, found " + describe(t)));
    }
  }

  std::vector<Token> tokens_;
  std::size_t pos_ = 0;
  std::string_view source_;
};

}  // namespace

std::string_view HclValue::kind_name() const {
  switch (kind) {
    case Kind::kNull:
      return "null";
    case Kind::kBool:
      return "a boolean";
    case Kind::kInteger:
      return "an integer";
    case Kind::kFloat:
      return "a fractional number";
    case Kind::kString:
      return "a string";
    case Kind::kList:
      return "a list";
    case Kind::kObject:
      return "a block";
  }
  return "a value";
}

nlohmann::json HclValue::to_json() const {
  switch (kind) {
    case Kind::kNull:
      return nullptr;
    case Kind::kBool:
      return boolean;
    case Kind::kInteger:
      return integer;
    case Kind::kFloat:
      return floating;
    case Kind::kString:
      return string;
    case Kind::kList: {
      nlohmann::json out = nlohmann::json::array();
      for (const HclValue& item : list) out.push_back(item.to_json());
      return out;
    }
    case Kind::kObject: {
      std::map<std::string_view, std::size_t> counts;
      for (const HclMember& m : members) ++counts[m.key];
      nlohmann::json out = nlohmann::json::object();
      for (const HclMember& m : members) {
        if (counts[m.key] == 1) {
          out[m.key] = m.value.to_json();
        } else {
          nlohmann::json& slot = out[m.key];
          if (slot.is_null()) slot = nlohmann::json::array();
          slot.push_back(m.value.to_json());
        }
      }
      return out;
    }
  }
  return nullptr;
}

Result<HclValue> parse_hcl(std::string_view text, std::string_view source_name) {
  COFFER_ASSIGN_OR_RETURN(std::vector<Token> tokens, Lexer(text, source_name, Syntax::kHcl).run());
  return Parser(std::move(tokens), source_name).hcl_document();
}

Result<HclValue> parse_json_with_lines(std::string_view text, std::string_view source_name) {
  COFFER_ASSIGN_OR_RETURN(std::vector<Token> tokens, Lexer(text, source_name, Syntax::kJson).run());
  return Parser(std::move(tokens), source_name).json_document();
}

}  // namespace coffer::config
