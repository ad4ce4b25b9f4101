// Opens every handcrafted corrupt model in tests/malformed/ and checks that Session::open
// fails with the StatusCode and a message containing the substring listed in expected.tsv.
// Regenerate the models with: /usr/bin/python3 tests/malformed/make_malformed.py
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "petrel/petrel.hpp"

#ifndef PETREL_MALFORMED_DIR
#error "PETREL_MALFORMED_DIR must name the tests/malformed folder"
#endif

namespace {

struct Expectation {
  std::string file, code, substring;
  int line = 0;
};

const std::string kDir = PETREL_MALFORMED_DIR;

std::vector<Expectation> read_expectations() {
  std::vector<Expectation> out;
  std::ifstream in(kDir + "/expected.tsv");
  EXPECT_TRUE(in.good()) << "cannot read " << kDir << "/expected.tsv";
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line[0] == '#') continue;
    size_t a = line.find('\t');
    size_t b = a == std::string::npos ? a : line.find('\t', a + 1);
    if (b == std::string::npos) {
      ADD_FAILURE() << "expected.tsv:" << n << ": needs file<TAB>StatusCode<TAB>substring: " << line;
      continue;
    }
    Expectation e{line.substr(0, a), line.substr(a + 1, b - a - 1), line.substr(b + 1), n};
    if (e.substring.empty()) ADD_FAILURE() << "expected.tsv:" << n << ": empty message substring";
    out.push_back(std::move(e));
  }
  return out;
}

TEST(Malformed, ExpectationsAreWellFormed) {
  auto exps = read_expectations();
  EXPECT_GE(exps.size(), 24u);
  std::set<std::string> seen;
  for (const auto& e : exps) {
    EXPECT_TRUE(seen.insert(e.file).second) << "expected.tsv:" << e.line << ": " << e.file << " listed twice";
    EXPECT_TRUE(std::filesystem::is_regular_file(kDir + "/" + e.file))
        << "expected.tsv:" << e.line << ": " << e.file << " does not exist";
  }
}

TEST(Malformed, EveryModelHasAnExpectation) {
  std::set<std::string> listed;
  for (const auto& e : read_expectations()) listed.insert(e.file);
  int models = 0;
  for (const auto& entry : std::filesystem::directory_iterator(kDir)) {
    if (entry.path().extension() != ".onnx") continue;
    ++models;
    const std::string name = entry.path().filename().string();
    EXPECT_TRUE(listed.count(name)) << name << " is in tests/malformed/ but not in expected.tsv";
  }
  EXPECT_GE(models, 24);
}

// PETREL_MALFORMED_VERBOSE=1 prints every error as Petrel reports it.
TEST(Malformed, EachModelFailsWithItsSpecificError) {
  const bool verbose = std::getenv("PETREL_MALFORMED_VERBOSE") != nullptr;
  for (const auto& e : read_expectations()) {
    SCOPED_TRACE("expected.tsv:" + std::to_string(e.line) + ": " + e.file);
    auto s = petrel::Session::open(kDir + "/" + e.file);
    if (s) {
      ADD_FAILURE() << e.file << " opened successfully; expected " << e.code << ": ..." << e.substring << "...";
      continue;
    }
    const petrel::Status& st = s.status();
    if (verbose) std::printf("%-28s %s\n", e.file.c_str(), st.to_string().c_str());
    EXPECT_EQ(std::string(petrel::status_code_name(st.code())), e.code) << st.to_string();
    EXPECT_NE(st.message().find(e.substring), std::string::npos)
        << "message does not contain \"" << e.substring << "\"\n  got: " << st.to_string();
    // Errors from load_model name the file they came from.
    EXPECT_NE(st.message().find(e.file), std::string::npos) << "message does not name the file: " << st.to_string();
  }
}

}  // namespace
