#include "rules_stream.hpp"

#include <algorithm>

#include "rapport/address.hpp"

namespace rapport::detail {

bool valid_rules_id(const std::string& id) {
    if (id.empty() || id.size() > 64) return false;
    return std::all_of(id.begin(), id.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '.' || c == '_' || c == '-';
    });
}

namespace {

using nlohmann::json;

bool blank(const std::string& s) { return s.find_first_not_of(" \t") == std::string::npos; }

// Keys of an account or a contact; the bit records that the key was seen (a second one is a
// duplicate key, which the careful path reports).
enum Field : unsigned {
    none = 0,
    id = 1u << 0, name = 1u << 1, owner = 1u << 2, stage = 1u << 3, reference = 1u << 4,
    auto_cc = 1u << 5, team = 1u << 6, domains = 1u << 7, contacts = 1u << 8, lost = 1u << 9,
    comment = 1u << 10, address = 1u << 11, champion = 1u << 12, top_value = 1u << 13,
    accounts_list = 1u << 14,
};

Field account_field(const std::string& k) {
    static const std::pair<const char*, Field> fields[] = {
        {"id", id}, {"name", name}, {"owner", owner}, {"stage", stage}, {"reference", reference},
        {"auto_cc", auto_cc}, {"team", team}, {"domains", domains}, {"contacts", contacts},
        {"lost", lost}, {"$comment", comment}};
    for (const auto& [key, f] : fields)
        if (k == key) return f;
    return none;
}

Field contact_field(const std::string& k) {
    if (k == "address") return address;
    if (k == "name") return name;
    if (k == "champion") return champion;
    if (k == "$comment") return comment;
    return none;
}

class Handler {
public:
    Handler(int max_depth, StreamedRules& out) : max_depth_(max_depth), out_(out) {}

    bool done() const { return state_ == State::done; }

    // nlohmann's SAX interface. Returning false stops the parse: the careful path takes over.
    bool null() { return route() && capturing_ && captured(json(nullptr)); }
    bool boolean(bool b) {
        if (!route()) return false;
        if (capturing_) return captured(json(b));
        if (state_ == State::account && field_ == reference) return account_.reference = b, true;
        if (state_ == State::account && field_ == auto_cc) return account_.auto_cc = b, true;
        if (state_ == State::contact && field_ == champion) return contact_champion_ = b, true;
        return false;
    }
    bool number_integer(json::number_integer_t n) { return route() && capturing_ && captured(json(n)); }
    bool number_unsigned(json::number_unsigned_t n) { return route() && capturing_ && captured(json(n)); }
    bool number_float(json::number_float_t x, const std::string&) {
        return route() && capturing_ && captured(json(x));
    }
    bool binary(json::binary_t&) { return false; }
    bool string(std::string& s) {
        if (!route()) return false;
        if (capturing_) return captured(json(std::move(s)));
        if (state_ == State::strings) return list_->push_back(std::move(s)), true;
        if (state_ == State::account) {
            switch (field_) {
                case id: account_.id = std::move(s); return true;
                case name: account_.name = std::move(s); return true;
                case owner: account_.owner = std::move(s); return true;
                case stage: stage_ = std::move(s); return true;
                default: return false;
            }
        }
        if (state_ == State::contact && field_ == address) return contact_address_ = std::move(s), true;
        if (state_ == State::contact && field_ == name) return contact_name_ = std::move(s), true;
        return false;
    }
    bool start_object(std::size_t) {
        if (++depth_ > max_depth_ || !route()) return false;
        if (capturing_) return opened(json::object());
        switch (state_) {
            case State::start: state_ = State::top; return true;
            case State::accounts:
                account_ = Account{};
                stage_.clear();
                seen_ = none;
                contacts_.clear();
                state_ = State::account;
                return true;
            case State::contacts:
                contact_address_.clear();
                contact_name_.clear();
                contact_champion_ = false;
                seen_contact_ = none;
                state_ = State::contact;
                return true;
            default: return false;
        }
    }
    bool key(std::string& k) {
        if (capturing_) return key_ = std::move(k), true;
        if (state_ == State::top) {
            if (k == "accounts") {
                if (seen_accounts_) return false;
                seen_accounts_ = true;
                field_ = accounts_list;
                return true;
            }
            if (out_.rest.contains(k)) return false;
            key_ = std::move(k);
            field_ = top_value;
            return true;
        }
        unsigned& seen = state_ == State::account ? seen_ : seen_contact_;
        field_ = state_ == State::account ? account_field(k) : state_ == State::contact ? contact_field(k) : none;
        if (field_ == none || (seen & field_)) return false;
        seen |= field_;
        return true;
    }
    bool end_object() {
        --depth_;
        if (capturing_) return closed();
        switch (state_) {
            case State::top: state_ = State::done; return true;
            case State::account: state_ = State::accounts; return finish_account();
            case State::contact: state_ = State::contacts; return finish_contact();
            default: return false;
        }
    }
    bool start_array(std::size_t) {
        if (++depth_ > max_depth_ || !route()) return false;
        if (capturing_) return opened(json::array());
        if (state_ == State::top && field_ == accounts_list) return state_ = State::accounts, true;
        if (state_ == State::account && (field_ == team || field_ == domains)) {
            list_ = field_ == team ? &account_.team : &account_.domains;
            state_ = State::strings;
            return true;
        }
        if (state_ == State::account && field_ == contacts) return state_ = State::contacts, true;
        return false;
    }
    bool end_array() {
        --depth_;
        if (capturing_) return closed();
        switch (state_) {
            case State::accounts: state_ = State::top; return true;
            case State::strings:
            case State::contacts: state_ = State::account; return true;
            default: return false;
        }
    }
    bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) { return false; }

private:
    enum class State { start, top, accounts, account, strings, contacts, contact, done };

    // A value that is kept as JSON (a top-level section, an account's "lost", a "$comment")
    // starts here; its events then build it until it is complete.
    bool route() {
        if (capturing_) return true;
        const bool keep = (state_ == State::top && field_ == top_value) ||
                          ((state_ == State::account || state_ == State::contact) &&
                           (field_ == lost || field_ == comment));
        if (!keep) return state_ != State::done;
        capturing_ = true;
        target_ = state_ == State::top ? top_value : field_;
        top_key_ = std::move(key_);
        stack_.clear();
        return true;
    }
    json* place(json&& v) {
        if (stack_.empty()) {
            root_ = std::move(v);
            return &root_;
        }
        json& parent = *stack_.back();
        if (parent.is_array()) {
            parent.push_back(std::move(v));
            return &parent.back();
        }
        auto [it, fresh] = parent.emplace(std::move(key_), std::move(v));
        return fresh ? &*it : nullptr;  // a duplicate key
    }
    bool captured(json&& v) { return place(std::move(v)) && (!stack_.empty() || deliver()); }
    bool opened(json&& v) {
        json* at = place(std::move(v));
        if (!at) return false;
        stack_.push_back(at);
        return true;
    }
    bool closed() {
        stack_.pop_back();
        return !stack_.empty() || deliver();
    }
    bool deliver() {
        capturing_ = false;
        field_ = none;
        if (target_ == top_value) out_.rest[top_key_] = std::move(root_);
        else if (target_ == lost) out_.lost.emplace_back(out_.accounts.size(), std::move(root_));
        return true;
    }

    bool finish_contact() {
        if (!(seen_contact_ & address)) return false;
        auto a = parse_address(contact_address_);
        if (!a || !a->display_name.empty() || a->domain.find('.') == std::string::npos) return false;
        Contact c;
        c.address = out_.arena->add(a->normalized());
        if (seen_contact_ & name) c.name = out_.arena->add(contact_name_);
        c.champion = contact_champion_;
        contacts_.push_back(c);
        return true;
    }

    bool finish_account() {
        if ((seen_ & (id | name | owner)) != (id | name | owner)) return false;
        if (!valid_rules_id(account_.id) || blank(account_.name) || blank(account_.owner)) return false;
        if (seen_ & stage) {
            static const std::pair<const char*, Stage> stages[] = {
                {"prospect", Stage::prospect}, {"active", Stage::active}, {"won", Stage::won}, {"lost", Stage::lost}};
            auto it = std::find_if(std::begin(stages), std::end(stages), [&](const auto& s) { return stage_ == s.first; });
            if (it == std::end(stages)) return false;
            account_.stage = it->second;
        }
        for (auto& raw : account_.domains) {
            auto d = normalize_domain(raw);
            if (!d || d->find('.') == std::string::npos || d->front() == '[') return false;
            raw = std::move(*d);
        }
        account_.contacts.assign(contacts_.begin(), contacts_.end());  // exactly sized
        out_.accounts.push_back(std::move(account_));
        return true;
    }

    int max_depth_;
    int depth_ = 0;
    StreamedRules& out_;
    State state_ = State::start;
    Field field_ = none;
    bool seen_accounts_ = false;

    Account account_;
    std::string stage_;
    unsigned seen_ = none;
    std::vector<std::string>* list_ = nullptr;
    std::vector<Contact> contacts_;  // the current account's, copied out exactly sized
    std::string contact_address_, contact_name_;
    bool contact_champion_ = false;
    unsigned seen_contact_ = none;

    bool capturing_ = false;
    Field target_ = none;
    std::string key_, top_key_;
    json root_;
    std::vector<json*> stack_;
};

}  // namespace

std::optional<StreamedRules> stream_rules(std::string_view text, int max_depth) {
    StreamedRules out;
    Handler handler(max_depth, out);
    const bool ok = json::sax_parse(text.begin(), text.end(), &handler, json::input_format_t::json, true, false);
    if (!ok || !handler.done()) return std::nullopt;
    return out;
}

}  // namespace rapport::detail
