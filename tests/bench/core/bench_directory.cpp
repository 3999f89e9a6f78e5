// Loads generated rules files (10,000 accounts / 100,000 contacts and 100,000 accounts /
// 1,000,000 contacts) and prints, per size: nlohmann's bare parse of the same text (the
// baseline), rules load (parse + validate + index), their ratio, and the peak RSS of each.
// Each figure comes from a fresh child process (this program re-executed), so one case's peak
// never hides in another's, and the child reads the file into an exactly sized string as the
// daemon does. The 10,000-account child also times 1,000,000 lookups against a bare
// unordered_map<string,int> probe with the same keys (the floor for a hash lookup).
// usage: bench_directory [lookups]      (children: bench_directory --child MODE FILE ...)
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "rapport/directory.hpp"

namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// VmHWM: the most this process ever had resident, in KiB.
long peak_rss_kib() {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line))
        if (line.rfind("VmHWM:", 0) == 0) return std::atol(line.c_str() + 6);
    return -1;
}

void write_generated(const std::string& path, int accounts, int contacts_per_account) {
    std::ofstream out(path, std::ios::binary);
    out << R"({"organization": {"name": "Vendor", "domains": ["vendor.example"]}, "people": [)";
    for (int p = 0; p < 100; ++p)
        out << (p ? "," : "") << R"({"id": "rep)" << p << R"(", "name": "Rep )" << p
            << R"(", "addresses": ["rep)" << p << R"(@vendor.example"]})";
    out << R"(], "accounts": [)";
    for (int a = 0; a < accounts; ++a) {
        const std::string id = "acct" + std::to_string(a);
        out << (a ? "," : "") << R"({"id": ")" << id << R"(", "name": "Account )" << a
            << R"(", "domains": [")" << id << R"(.example"], "owner": "rep)" << a % 100
            << R"(", "contacts": [)";
        for (int c = 0; c < contacts_per_account; ++c)
            out << (c ? "," : "") << R"({"address": "person)" << c << "@" << id
                << R"(.example", "name": "Person )" << c << R"("})";
        out << "]}";
    }
    out << "]}";
}

std::string read_exact(const std::string& path) {
    std::ifstream in(path, std::ios::binary | std::ios::ate);
    std::string text(static_cast<std::size_t>(in.tellg()), '\0');
    in.seekg(0);
    in.read(text.data(), static_cast<std::streamsize>(text.size()));
    return text;
}

// Child: one measurement, printed as "key value" lines on stdout.
int child(const std::string& mode, const std::string& path, int accounts, int per_account, long lookups) {
    const std::string text = read_exact(path);
    std::printf("text_kib %ld\n", peak_rss_kib());
    if (mode == "bare") {
        const auto t0 = std::chrono::steady_clock::now();
        auto bare = nlohmann::json::parse(text);
        std::printf("seconds %.6f\n", seconds_since(t0));
        std::printf("peak_kib %ld\n", peak_rss_kib());
        return bare.is_object() ? 0 : 1;
    }
    const auto t0 = std::chrono::steady_clock::now();
    auto result = rapport::parse_rules(text, "generated.json");
    if (!result.rules) {
        std::fprintf(stderr, "generated rules invalid: %s\n", result.diagnostics[0].to_string().c_str());
        return 1;
    }
    rapport::AccountDirectory directory(result.rules);
    std::printf("seconds %.6f\n", seconds_since(t0));
    std::printf("peak_kib %ld\n", peak_rss_kib());
    if (lookups == 0) return 0;

    // Mixed queries as mail brings them: contacts, other people at account domains (and
    // subdomains), colleagues, strangers on public and unknown domains, display-name forms.
    std::vector<std::string> queries;
    std::mt19937 rng(42);
    for (int i = 0; i < 4096; ++i) {
        const std::string id = "acct" + std::to_string(rng() % static_cast<unsigned>(accounts));
        const std::string who = std::to_string(rng() % static_cast<unsigned>(per_account));
        switch (i % 6) {
            case 0: queries.push_back("person" + who + "@" + id + ".example"); break;
            case 1: queries.push_back("Some One <Person" + who + "@" + id + ".EXAMPLE>"); break;
            case 2: queries.push_back("new.hire@sales." + id + ".example"); break;
            case 3: queries.push_back("rep" + std::to_string(rng() % 100) + "@vendor.example"); break;
            case 4: queries.push_back("stranger" + std::to_string(i) + "@gmail.com"); break;
            default: queries.push_back("who@unknown" + std::to_string(i) + ".example"); break;
        }
    }
    std::size_t matched = 0;
    auto t1 = std::chrono::steady_clock::now();
    for (long i = 0; i < lookups; ++i)
        matched += directory.lookup(queries[static_cast<std::size_t>(i) & 4095]).kind != rapport::MatchKind::none;
    const double lookup_time = seconds_since(t1);
    std::unordered_map<std::string, int> floor_map;
    for (int a = 0; a < accounts; ++a)
        for (int c = 0; c < per_account; ++c)
            floor_map.emplace("person" + std::to_string(c) + "@acct" + std::to_string(a) + ".example", a);
    std::size_t floor_hits = 0;
    t1 = std::chrono::steady_clock::now();
    for (long i = 0; i < lookups; ++i) floor_hits += floor_map.count(queries[static_cast<std::size_t>(i) & 4095]);
    const double floor_time = seconds_since(t1);
    std::printf("lookup_ns %.1f\nfloor_ns %.1f\nmatched %zu\nfloor_hits %zu\n", lookup_time / lookups * 1e9,
                floor_time / lookups * 1e9, matched, floor_hits);
    return 0;
}

// Runs this program again as a child and collects its "key value" lines. The child is
// waited for by pid whatever happens, so none outlives the benchmark.
std::unordered_map<std::string, double> run_child(const std::vector<std::string>& args) {
    int fds[2];
    if (pipe(fds) != 0) throw std::runtime_error("pipe failed");
    const pid_t pid = fork();
    if (pid < 0) throw std::runtime_error("fork failed");
    if (pid == 0) {
        dup2(fds[1], 1);
        close(fds[0]);
        close(fds[1]);
        std::vector<char*> argv;
        for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
        argv.push_back(nullptr);
        execv("/proc/self/exe", argv.data());
        _exit(127);
    }
    close(fds[1]);
    std::string out;
    char buf[4096];
    for (ssize_t n; (n = read(fds[0], buf, sizeof buf)) > 0;) out.append(buf, static_cast<std::size_t>(n));
    close(fds[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        throw std::runtime_error("child " + args[2] + " failed (status " + std::to_string(status) + ")");
    std::unordered_map<std::string, double> values;
    std::istringstream lines(out);
    std::string key;
    double value = 0;
    while (lines >> key >> value) values[key] = value;
    return values;
}

struct TempFile {
    std::string path;
    TempFile() {
        const char* dir = std::getenv("TMPDIR");
        std::string pattern = std::string(dir && *dir ? dir : "/tmp") + "/bench_directory_XXXXXX";
        const int fd = mkstemp(pattern.data());
        if (fd < 0) throw std::runtime_error("cannot create a temporary file; set TMPDIR to a writable folder");
        close(fd);
        path = pattern;
    }
    ~TempFile() { std::remove(path.c_str()); }
};

}  // namespace

int main(int argc, char** argv) {
    if (argc >= 7 && std::strcmp(argv[1], "--child") == 0)
        return child(argv[2], argv[3], std::atoi(argv[4]), std::atoi(argv[5]), std::atol(argv[6]));
    const long lookups = argc > 1 ? std::atol(argv[1]) : 1000000;
    try {
        for (const int accounts : {10000, 100000}) {
            const int per_account = 10;
            TempFile file;
            write_generated(file.path, accounts, per_account);
            const auto args = [&](const char* mode, long n) {
                return std::vector<std::string>{argv[0], "--child", mode, file.path, std::to_string(accounts),
                                                std::to_string(per_account), std::to_string(n)};
            };
            auto bare = run_child(args("bare", 0));
            auto load = run_child(args("load", accounts == 10000 ? lookups : 0));
            std::ifstream sized(file.path, std::ios::binary | std::ios::ate);
            const double megabytes = static_cast<double>(sized.tellg()) / 1e6;
            std::printf("%d accounts / %d contacts, file %.1f MB (the text alone: %.1f MiB resident)\n", accounts,
                        accounts * per_account, megabytes, load["text_kib"] / 1024.0);
            std::printf("  bare JSON parse %.3f s, peak RSS %.1f MiB\n", bare["seconds"], bare["peak_kib"] / 1024.0);
            std::printf("  rules load      %.3f s, peak RSS %.1f MiB   ratio %.2fx the bare parse\n",
                        load["seconds"], load["peak_kib"] / 1024.0, load["seconds"] / bare["seconds"]);
            if (load.count("lookup_ns"))
                std::printf("  %ld lookups: %.0f ns each (%.0f matched); bare hash probe %.0f ns (%.0f hits), "
                            "ratio %.1fx\n",
                            lookups, load["lookup_ns"], load["matched"], load["floor_ns"], load["floor_hits"],
                            load["lookup_ns"] / load["floor_ns"]);
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "bench_directory: %s\n", e.what());
        return 1;
    }
    return 0;
}
