// Loads a generated rules file of 10,000 accounts and 100,000 contacts, then times
// load+validate and 1,000,000 lookups. Baselines measured in the same run: nlohmann's bare
// parse of the same text (so validation's cost shows as a ratio), and a bare
// unordered_map<string,int> probe with the same keys (the floor for a hash lookup).
// usage: bench_directory [accounts] [contacts-per-account] [lookups]
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "rapport/directory.hpp"

namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

long peak_rss_kib() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return usage.ru_maxrss;
}

std::string generate(int accounts, int contacts_per_account) {
    std::string out = R"({"organization": {"name": "Vendor", "domains": ["vendor.example"]}, "people": [)";
    for (int p = 0; p < 100; ++p) {
        if (p) out += ",";
        out += R"({"id": "rep)" + std::to_string(p) + R"(", "name": "Rep )" + std::to_string(p) +
               R"(", "addresses": ["rep)" + std::to_string(p) + R"(@vendor.example"]})";
    }
    out += R"(], "accounts": [)";
    for (int a = 0; a < accounts; ++a) {
        const std::string id = "acct" + std::to_string(a);
        if (a) out += ",";
        out += R"({"id": ")" + id + R"(", "name": "Account )" + std::to_string(a) + R"(", "domains": [")" + id +
               R"(.example"], "owner": "rep)" + std::to_string(a % 100) + R"(", "contacts": [)";
        for (int c = 0; c < contacts_per_account; ++c) {
            if (c) out += ",";
            out += R"({"address": "person)" + std::to_string(c) + "@" + id + R"(.example", "name": "Person )" +
                   std::to_string(c) + R"("})";
        }
        out += "]}";
    }
    out += "]}";
    return out;
}

}  // namespace

int main(int argc, char** argv) {
    const int accounts = argc > 1 ? std::atoi(argv[1]) : 10000;
    const int per_account = argc > 2 ? std::atoi(argv[2]) : 10;
    const long lookups = argc > 3 ? std::atol(argv[3]) : 1000000;
    const std::string text = generate(accounts, per_account);
    std::printf("rules file: %d accounts, %d contacts, %.1f MB\n", accounts, accounts * per_account,
                text.size() / 1e6);

    auto t0 = std::chrono::steady_clock::now();
    auto bare = nlohmann::json::parse(text);
    const double bare_parse = seconds_since(t0);
    bare = nullptr;

    t0 = std::chrono::steady_clock::now();
    auto result = rapport::parse_rules(text, "generated.json");
    if (!result.rules) {
        std::fprintf(stderr, "generated rules invalid: %s\n", result.diagnostics[0].to_string().c_str());
        return 1;
    }
    rapport::AccountDirectory directory(result.rules);
    const double load = seconds_since(t0);
    std::printf("load+validate+index: %.3f s   (bare JSON parse %.3f s, ratio %.2fx)\n", load, bare_parse,
                load / bare_parse);

    // Mixed queries as mail brings them: contacts, other people at account domains (and
    // subdomains), colleagues, strangers on public and unknown domains, display-name forms.
    std::vector<std::string> queries;
    std::mt19937 rng(42);
    for (int i = 0; i < 4096; ++i) {
        const int a = static_cast<int>(rng() % accounts);
        const std::string id = "acct" + std::to_string(a);
        switch (i % 6) {
            case 0: queries.push_back("person" + std::to_string(rng() % per_account) + "@" + id + ".example"); break;
            case 1: queries.push_back("Some One <Person" + std::to_string(rng() % per_account) + "@" + id + ".EXAMPLE>"); break;
            case 2: queries.push_back("new.hire@sales." + id + ".example"); break;
            case 3: queries.push_back("rep" + std::to_string(rng() % 100) + "@vendor.example"); break;
            case 4: queries.push_back("stranger" + std::to_string(i) + "@gmail.com"); break;
            default: queries.push_back("who@unknown" + std::to_string(i) + ".example"); break;
        }
    }
    std::size_t matched = 0;
    t0 = std::chrono::steady_clock::now();
    for (long i = 0; i < lookups; ++i)
        matched += directory.lookup(queries[static_cast<std::size_t>(i) & 4095]).kind != rapport::MatchKind::none;
    const double lookup_time = seconds_since(t0);

    std::unordered_map<std::string, int> floor_map;
    for (int a = 0; a < accounts; ++a)
        for (int c = 0; c < per_account; ++c)
            floor_map.emplace("person" + std::to_string(c) + "@acct" + std::to_string(a) + ".example", a);
    std::size_t floor_hits = 0;
    t0 = std::chrono::steady_clock::now();
    for (long i = 0; i < lookups; ++i) floor_hits += floor_map.count(queries[static_cast<std::size_t>(i) & 4095]);
    const double floor_time = seconds_since(t0);

    std::printf("%ld lookups: %.3f s, %.0f ns per lookup (%zu matched)\n", lookups, lookup_time,
                lookup_time / lookups * 1e9, matched);
    std::printf("bare hash probe floor: %.0f ns per probe (%zu hits); directory/floor ratio %.1fx\n",
                floor_time / lookups * 1e9, floor_hits, lookup_time / floor_time);
    std::printf("peak RSS: %.1f MiB\n", peak_rss_kib() / 1024.0);
    return 0;
}
