// rapportd: the command line of CONTRACT.md.
#include <cstdio>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include "app/config_loader.hpp"
#include "app/daemon.hpp"
#include "app/first_run.hpp"
#include "app/log.hpp"
#include "rapport/version.hpp"
#include "store/state_store.hpp"

namespace {

void usage(std::FILE* out) {
    std::fprintf(out,
                 "usage: rapportd --config SETTINGS.json      run the daemon in the foreground\n"
                 "       rapportd --check-config SETTINGS.json [--print-directory]\n"
                 "                                            validate settings and rules\n"
                 "       rapportd init --address ADDR --imap-host HOST [--name NAME] [--imap-port N]\n"
                 "                     [--security tls|starttls|none] [--username U]\n"
                 "                     [--password-command CMD | --password-stdin] [--rules PATH]\n"
                 "                     [--config PATH]\n"
                 "                                            first run: log in, find the Sent and\n"
                 "                                            Drafts folders, write a settings file\n"
                 "       rapportd --version                   print the version\n"
                 "       rapportd --help                      print this help\n"
                 "\n"
                 "SIGHUP reloads the settings and the rules; SIGTERM and SIGINT stop the daemon.\n"
                 "The settings file defaults to $XDG_CONFIG_HOME/rapport/settings.json for init and\n"
                 "the systemd user unit (systemctl --user enable --now rapportd).\n"
                 "\n"
                 "Report bugs at the project's issue tracker.\n");
}

void print_directory(const rapport::Rules& rules) {
    rapport::AccountDirectory directory(std::make_shared<rapport::Rules>(rules));
    for (const auto& a : rules.accounts) {
        const auto* owner = directory.owner_of(a);
        std::printf("%-16s %-28s %-8s owner %s%s\n", a.id.c_str(), a.name.c_str(),
                    rapport::to_string(a.stage), owner ? owner->name.c_str() : a.owner.c_str(),
                    a.reference ? "  (reference customer)" : "");
        for (const auto& d : a.domains) std::printf("    domain  %s (and its subdomains)\n", d.c_str());
        for (const auto& c : a.contacts)
            std::printf("    contact %s%s%s%s\n", c.address.c_str(), c.name.empty() ? "" : " (",
                        c.name.c_str(), c.champion ? ", champion)" : (c.name.empty() ? "" : ")"));
    }
}

int check_config(const std::string& path, bool print) {
    // Rules from a URL are fetched now, whatever copy the daemon keeps.
    auto loaded = rapport::load_config(path, rapport::ConfigPurpose::check);
    for (const auto& w : loaded.warnings) std::fprintf(stderr, "warning: %s\n", w.c_str());
    if (!loaded.ok()) {
        for (const auto& d : loaded.diagnostics) std::printf("%s\n", d.to_string().c_str());
        std::fflush(stdout);
        std::fprintf(stderr, "%zu error%s; nothing was changed\n", loaded.diagnostics.size(),
                     loaded.diagnostics.size() == 1 ? "" : "s");
        return 1;
    }
    std::printf("%s: OK\n%s: OK (%s)\n", path.c_str(), loaded.settings->rules_file.c_str(),
                rapport::describe_directory(*loaded.rules).c_str());
    if (print) print_directory(*loaded.rules);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc >= 2 && std::strcmp(argv[1], "init") == 0)
        return rapport::run_init(std::vector<std::string>(argv + 2, argv + argc));
    std::string mode, path;
    bool print = false;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "--version") {
            std::printf("rapportd %s\n", rapport::kVersion);
            return 0;
        } else if (arg == "--help" || arg == "-h") {
            usage(stdout);
            return 0;
        } else if ((arg == "--config" || arg == "--check-config") && i + 1 < argc) {
            mode = arg;
            path = argv[++i];
        } else if (arg == "--print-directory") {
            print = true;
        } else {
            std::fprintf(stderr, "rapportd: unknown argument '%s'\n", arg.c_str());
            usage(stderr);
            return 2;
        }
    }
    if (mode == "--check-config") return check_config(path, print);
    if (mode != "--config") {
        usage(stderr);
        return 2;
    }
    auto loaded = rapport::load_config(path);
    for (const auto& w : loaded.warnings) rapport::log::warning(w);
    if (!loaded.ok()) {
        for (const auto& d : loaded.diagnostics) rapport::log::error(d.to_string());
        rapport::log::error("not starting: fix the errors above (rapportd --check-config " + path + ")");
        return 1;
    }
    rapport::log::set_level(loaded.settings->log_level);
    try {
        rapport::Daemon daemon(path, std::move(loaded));
        return daemon.run();
    } catch (const std::exception& e) {
        rapport::log::error(e.what());
        return 1;
    }
}
