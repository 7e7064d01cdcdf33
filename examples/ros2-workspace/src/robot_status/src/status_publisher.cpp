// Publishes this robot's status line on the ROS 2 topic /robot_status (std_msgs/msg/String)
// over Cyclone DDS, in the ROS domain ROS_DOMAIN_ID, until it is stopped.
//   status_publisher [--rate HZ] [--count N]
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>

#include "dds/dds.h"
#include "rcutils/env.h"
#include "rcutils/logging_macros.h"
#include "String.h"
#include "report.hpp"

namespace
{
volatile std::sig_atomic_t stopping = 0;
void stop(int) {stopping = 1;}

int domain_id()
{
  const char * id = nullptr;
  if (rcutils_get_env("ROS_DOMAIN_ID", &id) != nullptr || id == nullptr || *id == '\0') {return 0;}
  return std::atoi(id);
}
}  // namespace

int main(int argc, char ** argv)
{
  double rate = 2.0;
  long count = -1;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--rate") == 0) {
      rate = std::atof(argv[i + 1]);
    } else if (std::strcmp(argv[i], "--count") == 0) {
      count = std::atol(argv[i + 1]);
    }
  }
  if (rate <= 0) {
    std::cerr << "status_publisher: --rate must be positive\n";
    return 2;
  }
  if (rcutils_logging_initialize() != RCUTILS_RET_OK) {return 1;}
  const std::string line = robot_status::status_line();

  const dds_entity_t participant = dds_create_participant(domain_id(), nullptr, nullptr);
  if (participant < 0) {
    std::cerr << "status_publisher: " << dds_strretcode(-participant) << '\n';
    return 1;
  }
  const dds_entity_t topic = dds_create_topic(
    participant, &std_msgs_msg_dds__String__desc, "rt/robot_status", nullptr, nullptr);
  dds_qos_t * qos = dds_create_qos();
  dds_qset_reliability(qos, DDS_RELIABILITY_RELIABLE, DDS_SECS(1));
  dds_qset_history(qos, DDS_HISTORY_KEEP_LAST, 10);
  const dds_entity_t writer = dds_create_writer(participant, topic, qos, nullptr);
  dds_delete_qos(qos);
  if (topic < 0 || writer < 0) {
    std::cerr << "status_publisher: cannot create the topic or its writer\n";
    return 1;
  }
  std::signal(SIGINT, stop);
  std::signal(SIGTERM, stop);
  RCUTILS_LOG_INFO_NAMED("status_publisher", "publishing on /robot_status at %.1f Hz", rate);
  std_msgs_msg_dds__String_ msg{};
  msg.data = const_cast<char *>(line.c_str());
  for (long n = 0; !stopping && (count < 0 || n < count); ++n) {
    if (dds_write(writer, &msg) != DDS_RETCODE_OK) {
      std::cerr << "status_publisher: write failed\n";
      break;
    }
    dds_sleepfor(static_cast<dds_duration_t>(DDS_NSECS_IN_SEC / rate));
  }
  dds_delete(participant);
  return 0;
}
