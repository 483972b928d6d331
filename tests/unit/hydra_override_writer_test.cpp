// Tests for src/hydra/override_writer.h: every special character, checked
// twice — against the exact text expected, and by reading it back with a
// decoder written from Hydra's lexer rules (QUOTED_VALUE, then OmegaConf's
// escaped interpolation), which must give the original string.
#include "hydra/override_writer.h"

#include <gtest/gtest.h>

#include "common/quote.h"

namespace mmcfs::hydra {
namespace {

// Hydra's reading of a single-quoted QUOTED_VALUE followed by OmegaConf's
// resolution of `\${`: backslash runs before a quote or the end are halved
// (an odd one escapes the quote); before `${` likewise (odd: a literal ${).
std::string decode_quoted(const std::string& q) {
  EXPECT_GE(q.size(), 2u);
  EXPECT_EQ(q.front(), '\'');
  EXPECT_EQ(q.back(), '\'');
  std::string body = q.substr(1, q.size() - 2), out;
  for (std::size_t i = 0; i < body.size();) {
    if (body[i] != '\\') {
      EXPECT_FALSE(body[i] == '\'') << "unescaped quote inside " << q;
      out += body[i++];
      continue;
    }
    std::size_t run = 0;
    while (i + run < body.size() && body[i + run] == '\\') ++run;
    i += run;
    const bool quote_next = i < body.size() && body[i] == '\'';
    const bool end = i == body.size();
    const bool interp_next = i + 1 < body.size() && body[i] == '$' && body[i + 1] == '{';
    if (quote_next || interp_next) {
      EXPECT_EQ(run % 2, 1u) << "an interpolation or quote left unescaped in " << q;
      out.append(run / 2, '\\');
      out += body[i++];
    } else if (end) {
      EXPECT_EQ(run % 2, 0u) << "the closing quote is escaped in " << q;
      out.append(run / 2, '\\');
    } else {
      out.append(run, '\\');
    }
  }
  return out;
}

TEST(HydraOverrideWriter, StringsComeBackUnchanged) {
  struct Case {
    std::string text;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {"use eos as mask token, but try lower LR", "'use eos as mask token, but try lower LR'"},
      {"a,b", "'a,b'"},                 // unquoted: a choice sweep
      {"key=value", "'key=value'"},     // `=` is a separator
      {"x: y", "'x: y'"},               // `:` too (dict)
      {"[1,2]", "'[1,2]'"},             // a list
      {"{a: 1}", "'{a: 1}'"},           // a dict
      {"f(x)", "'f(x)'"},               // a function call
      {"it's", "'it\\'s'"},
      {"say \"hi\"", "'say \"hi\"'"},   // double quotes need nothing inside single ones
      {"C:\\dir\\", "'C:\\dir\\\\'"},   // a backslash before the closing quote is doubled
      {"a\\'b", "'a\\\\\\'b'"},
      {"a\\\\b", "'a\\\\b'"},           // backslashes elsewhere stay
      {"${model.lr}", "'\\${model.lr}'"},
      {"cost $5 ${x}", "'cost $5 \\${x}'"},
      {"\\${x}", "'\\\\\\${x}'"},
      {"$HOME", "'$HOME'"},
      {"42", "'42'"},
      {"1e-5", "'1e-5'"},
      {"true", "'true'"},
      {"NULL", "'NULL'"},
      {"nan", "'nan'"},
      {"", "''"},
      {" padded ", "' padded '"},
      {"tab\there", "'tab\there'"},
      {"line\nbreak", "'line\nbreak'"},
      {"h\xc3\xa9llo \xe2\x9c\x93", "'h\xc3\xa9llo \xe2\x9c\x93'"},
      {"~key", "'~key'"},
      {"+x", "'+x'"},
      {"#comment", "'#comment'"},
      {"a;rm -rf /", "'a;rm -rf /'"},
      {"`id`", "'`id`'"},
      {"transformer", "transformer"},
      {"resnet-50", "resnet-50"},
      {"data/imagenet.v2", "data/imagenet.v2"},
      {"_x", "_x"},
  };
  for (const Case& c : cases) {
    const std::string written = write_string(c.text);
    EXPECT_EQ(written, c.expected) << "[" << c.text << "]";
    if (written.front() == '\'') {
      EXPECT_EQ(decode_quoted(written), c.text) << written;
    }
    // Quoted YAML strings are written the same way, whatever they look like.
    EXPECT_EQ(write_value(c.text, true, false), written) << "[" << c.text << "]";
  }
}

TEST(HydraOverrideWriter, QuotingRoundTripsEveryByteCombination) {
  const std::string alphabet = std::string("a\\'\"$,={}[]():=~ \t\n") + "\xc3\xa9";
  // Every string of up to three characters over the special alphabet.
  std::vector<std::string> strings = {""};
  for (int len = 0; len < 3; ++len) {
    std::vector<std::string> next;
    for (const auto& s : strings) {
      for (char c : alphabet) next.push_back(s + c);
    }
    strings.insert(strings.end(), next.begin(), next.end());
  }
  for (const std::string& s : strings) {
    const std::string q = quote_string(s);
    EXPECT_EQ(decode_quoted(q), s) << q;
  }
}

TEST(HydraOverrideWriter, TypedValuesAndTheShellWord) {
  EXPECT_EQ(write_value("1e-05", false, false), "1e-5");
  EXPECT_EQ(write_value("007", false, false), "7");
  EXPECT_EQ(write_value("True", false, false), "true");
  EXPECT_EQ(write_value("~", false, false), "null");
  EXPECT_EQ(write_value("anything", false, true), "null");
  EXPECT_EQ(write_value("[1,'a b']", false, false), "[1,'a b']");
  const std::string arg = write_override("experiment_suffix", "use eos as mask token, but try lower LR", true, false);
  EXPECT_EQ(arg, "experiment_suffix='use eos as mask token, but try lower LR'");
  // One shell word for bash: the whole argument in POSIX quotes.
  EXPECT_EQ(shell_quote(arg), "'experiment_suffix='\\''use eos as mask token, but try lower LR'\\'''");
}

}  // namespace
}  // namespace mmcfs::hydra
