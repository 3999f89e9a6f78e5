#pragma once
// Connects the WebSocket server (daemon/api) to the core's method dispatcher and the store:
// it is the ApiHandler the server calls and the RpcBackend the dispatcher reads.
#include "api_server.hpp"
#include "app/daemon_state.hpp"
#include "rapport/rpc_methods.hpp"

namespace rapport {

class ApiBridge : public api::ApiHandler, public rpc::RpcBackend {
public:
    explicit ApiBridge(DaemonState& state) : state_(state) {}

    // ApiHandler
    nlohmann::json hello(const nlohmann::json& params, api::SessionInfo& session) override;
    nlohmann::json handle(const std::string& method, const nlohmann::json& params,
                          api::SessionInfo& session) override;
    void subscribe(const nlohmann::json& params, api::SessionInfo& session,
                   api::SubscribeDone done) override;

    // RpcBackend
    const AccountDirectory& directory() const override { return *state_.directory; }
    TimePoint now() const override { return state_.clock->now(); }
    nlohmann::json status() override { return state_.status_json(); }
    std::optional<TimePoint> last_contact(const std::string& account, const std::string& address) override;
    std::optional<ContactStatus> contact_state(const std::string& address) override;
    std::vector<rpc::AddressFacts> address_facts(const std::vector<rpc::AddressQuery>& queries) override;
    std::vector<Nudge> nudges(const std::string& filter) override;
    std::optional<Nudge> nudge(int64_t id) override;
    std::vector<Nudge> record_loss(const LossReport& loss, const std::vector<PlannedNudge>& nudges) override;
    std::size_t reopen(const std::string& account) override;
    bool set_nudge(int64_t id, NudgeState state, std::optional<TimePoint> due) override;
    nlohmann::json meetings(std::optional<TimePoint> from, std::optional<TimePoint> to) override;
    nlohmann::json drafts() override;
    bool ack_notification(int64_t id) override;
    std::vector<ContactSeen> contacts_seen(const std::string& account) override;

    static constexpr std::size_t kMaxReplay = 5000;

private:
    DaemonState& state_;
};

}  // namespace rapport
