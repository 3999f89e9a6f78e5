// Stand-in for libFuzzer under GCC: replays every corpus file and every kept crasher, then a
// fixed number of seeded mutations of them (byte flips, inserts, truncations, splices).
// Deterministic, so a failure in CI reproduces locally with the same command line.
//   replay_driver [--iterations N] CORPUS... [--regressions DIR]...
// A --regressions directory may be missing (no crasher kept yet for that target); a corpus
// path must exist.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {
std::vector<std::string> read_corpus(const std::vector<std::string>& paths) {
    std::vector<std::string> corpus;
    for (const auto& p : paths) {
        std::filesystem::path path(p);
        std::vector<std::filesystem::path> files;
        if (std::filesystem::is_directory(path)) {
            for (const auto& e : std::filesystem::recursive_directory_iterator(path))
                if (e.is_regular_file()) files.push_back(e.path());
        } else {
            files.push_back(path);
        }
        std::sort(files.begin(), files.end());
        for (const auto& f : files) {
            std::ifstream in(f, std::ios::binary);
            corpus.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
        }
    }
    return corpus;
}

std::string mutate(std::string s, const std::vector<std::string>& corpus, std::mt19937_64& rng) {
    const int steps = 1 + static_cast<int>(rng() % 8);
    for (int i = 0; i < steps; ++i) {
        const size_t pos = s.empty() ? 0 : rng() % (s.size() + 1);
        switch (rng() % 6) {
            case 0:
                if (!s.empty()) s[pos % s.size()] ^= static_cast<char>(1u << (rng() % 8));
                break;
            case 1: s.insert(pos, 1, static_cast<char>(rng() % 256)); break;
            case 2: if (pos < s.size()) s.erase(pos, 1 + rng() % 16); break;
            case 3: s.resize(pos); break;
            case 4: {
                static const char* tokens[] = {"\"", "\\", "{", "}", "[", "]", "\r\n", "\0", "{}",
                                               "=?utf-8?b?", "?=", "<", ">", ",", ":", "\xff",
                                               "999999999999999999999", "-1", "null", " "};
                const char* t = tokens[rng() % (sizeof tokens / sizeof *tokens)];
                s.insert(pos, t, std::max<size_t>(1, std::strlen(t)));
                break;
            }
            default:
                if (!corpus.empty()) {
                    const auto& other = corpus[rng() % corpus.size()];
                    const size_t from = other.empty() ? 0 : rng() % other.size();
                    s.insert(pos, other.substr(from, rng() % 64));
                }
        }
    }
    return s;
}
}  // namespace

int main(int argc, char** argv) {
    long iterations = 0;
    int regression_dirs = 0;
    std::vector<std::string> paths;
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], "--iterations") == 0 && i + 1 < argc) {
            iterations = std::strtol(argv[++i], nullptr, 10);
        } else if (std::strcmp(argv[i], "--regressions") == 0 && i + 1 < argc) {
            const char* dir = argv[++i];
            if (std::filesystem::is_directory(dir)) {
                paths.emplace_back(dir);
                ++regression_dirs;
            }
        } else if (!std::filesystem::exists(argv[i])) {
            std::fprintf(stderr, "%s: corpus path %s does not exist; fix the test's command line\n",
                         argv[0], argv[i]);
            return 2;
        } else {
            paths.emplace_back(argv[i]);
        }
    }
    const auto corpus = read_corpus(paths);
    for (const auto& input : corpus)
        LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(input.data()), input.size());
    std::mt19937_64 rng(20261125);
    for (long i = 0; i < iterations; ++i) {
        std::string base = corpus.empty() ? std::string() : corpus[rng() % corpus.size()];
        const auto input = mutate(std::move(base), corpus, rng);
        LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(input.data()), input.size());
    }
    std::printf("replayed %zu corpus and regression inputs (%d regressions dir) and %ld mutations\n",
                corpus.size(), regression_dirs, iterations);
    return 0;
}
