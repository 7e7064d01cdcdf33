/*
 * ros2: a TEST STAND-IN for the ROS 2 command line, built into the ros-multiarch-action test
 * fixture bases (Debian has no ros2 CLI). It implements exactly what the action's built-in ROS 2
 * smoke checks run, over real DDS (Debian's Cyclone DDS), and nothing else:
 *   ros2 --help
 *   ros2 pkg list                                   packages in the ament index of AMENT_PREFIX_PATH
 *   ros2 topic pub [-r RATE] TOPIC std_msgs/msg/String "{data: TEXT}"
 *   ros2 topic echo [--once] TOPIC [std_msgs/msg/String]
 * Topics and types are named on DDS as ROS 2 names them (topic "rt/<name>", type
 * "std_msgs::msg::dds_::String_"). Discovery follows the variables the image's distro reads
 * (ROS_DISTRO): ROS_DOMAIN_ID; for humble and iron ROS_LOCALHOST_ONLY=1; for later distros
 * ROS_AUTOMATIC_DISCOVERY_RANGE (SUBNET, LOCALHOST, OFF, SYSTEM_DEFAULT; ROS_LOCALHOST_ONLY=1
 * only when the range is unset, as Jazzy reads it). topic pub and topic echo say on stderr which
 * setting they used, so a test can tell. It is not ROS 2: no rcl, no rmw, no other message types.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dds/dds.h"
#include "String.h"

#define STRING_TYPE "std_msgs/msg/String"
#define PROG "ros2 (test stand-in)"

static void usage(FILE *out)
{
  fprintf(out,
          "usage: ros2 [-h] Call `ros2 <command> -h` for more detailed usage. ...\n"
          "\n"
          "ros2 is an extensible command-line tool for ROS 2.\n"
          "This one is the ros-multiarch-action TEST STAND-IN over Cyclone DDS; it implements only:\n"
          "\n"
          "Commands:\n"
          "  pkg list                         Output a list of available packages\n"
          "  topic pub [-r RATE] TOPIC " STRING_TYPE " VALUES\n"
          "                                   Publish a message to a topic\n"
          "  topic echo [--once] TOPIC [" STRING_TYPE "]\n"
          "                                   Output messages from a topic\n");
}

static int fail(int code, const char *fmt, const char *arg)
{
  fprintf(stderr, PROG ": ");
  fprintf(stderr, fmt, arg);
  fputc('\n', stderr);
  return code;
}

/* ---- ros2 pkg list ---------------------------------------------------------------------- */

static int compare_names(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static int pkg_list(void)
{
  const char *prefixes = getenv("AMENT_PREFIX_PATH");
  if (prefixes == NULL || *prefixes == '\0')
    return fail(1, "%s", "AMENT_PREFIX_PATH is not set (source /opt/ros/<distro>/setup.sh)");
  char *copy = strdup(prefixes), *save = NULL;
  if (copy == NULL) return fail(1, "%s", "out of memory");
  char **names = NULL;
  size_t count = 0, cap = 0;
  for (char *prefix = strtok_r(copy, ":", &save); prefix; prefix = strtok_r(NULL, ":", &save)) {
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/share/ament_index/resource_index/packages", prefix);
    DIR *d = opendir(dir);
    if (d == NULL) continue;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
      if (e->d_name[0] == '.') continue;
      if (count == cap) {
        char **more = realloc(names, (cap = cap ? 2 * cap : 64) * sizeof *names);
        if (more == NULL) return fail(1, "%s", "out of memory");
        names = more;
      }
      if ((names[count++] = strdup(e->d_name)) == NULL) return fail(1, "%s", "out of memory");
    }
    closedir(d);
  }
  if (count > 0) qsort(names, count, sizeof *names, compare_names);
  for (size_t i = 0; i < count; i++)
    if (i == 0 || strcmp(names[i], names[i - 1]) != 0) puts(names[i]);
  return 0;
}

/* ---- DDS set-up: ROS 2's discovery settings --------------------------------------------- */

enum discovery { DISCOVERY_SUBNET, DISCOVERY_LOCALHOST, DISCOVERY_OFF };

/* The discovery range this distro's ROS 2 would use, and the variable that set it (for stderr). */
static enum discovery discovery_range(const char **why)
{
  const char *distro = getenv("ROS_DISTRO");
  const char *only = getenv("ROS_LOCALHOST_ONLY");
  const char *range = getenv("ROS_AUTOMATIC_DISCOVERY_RANGE");
  int only_set = only != NULL && strcmp(only, "1") == 0;
  if (distro != NULL && (strcmp(distro, "humble") == 0 || strcmp(distro, "iron") == 0)) {
    /* before Jazzy: only ROS_LOCALHOST_ONLY exists */
    *why = only_set ? "ROS_LOCALHOST_ONLY=1" : "default (ROS_LOCALHOST_ONLY unset)";
    return only_set ? DISCOVERY_LOCALHOST : DISCOVERY_SUBNET;
  }
  if (range != NULL && *range != '\0') {
    *why = strcmp(range, "LOCALHOST") == 0 ? "ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST"
           : strcmp(range, "OFF") == 0     ? "ROS_AUTOMATIC_DISCOVERY_RANGE=OFF"
                                           : "ROS_AUTOMATIC_DISCOVERY_RANGE (subnet)";
    return strcmp(range, "LOCALHOST") == 0 ? DISCOVERY_LOCALHOST
           : strcmp(range, "OFF") == 0     ? DISCOVERY_OFF
                                           : DISCOVERY_SUBNET;
  }
  /* Jazzy and later still honour the deprecated variable when the range is unset */
  *why = only_set ? "ROS_LOCALHOST_ONLY=1 (deprecated)" : "default (ROS_AUTOMATIC_DISCOVERY_RANGE unset)";
  return only_set ? DISCOVERY_LOCALHOST : DISCOVERY_SUBNET;
}

static dds_entity_t open_topic(const char *topic, dds_entity_t *participant)
{
  long domain = 0;
  const char *id = getenv("ROS_DOMAIN_ID");
  if (id != NULL && *id != '\0') {
    char *end = NULL;
    domain = strtol(id, &end, 10);
    if (*end != '\0' || domain < 0 || domain > 232) {
      fail(1, "ROS_DOMAIN_ID must be a number from 0 to 232, got '%s'", id);
      return -1;
    }
  }
  const char *why = NULL;
  enum discovery range = discovery_range(&why);
  fprintf(stderr, PROG ": discovery %s from %s, ROS domain %ld\n",
          range == DISCOVERY_LOCALHOST ? "LOCALHOST" : range == DISCOVERY_OFF ? "OFF" : "SUBNET", why, domain);
  if (range != DISCOVERY_SUBNET) {
    /* LOCALHOST: discovery and data on the loopback only, unicast to the local participants.
     * OFF: no automatic discovery at all (no multicast, no peers). */
    static const char local[] =
      "<CycloneDDS><Domain id=\"any\"><General><Interfaces>"
      "<NetworkInterface address=\"127.0.0.1\"/></Interfaces></General>"
      "<Discovery><ParticipantIndex>auto</ParticipantIndex><MaxAutoParticipantIndex>32"
      "</MaxAutoParticipantIndex><Peers><Peer address=\"127.0.0.1\"/></Peers></Discovery>"
      "</Domain></CycloneDDS>";
    static const char off[] =
      "<CycloneDDS><Domain id=\"any\"><General><AllowMulticast>false</AllowMulticast>"
      "</General><Discovery><ParticipantIndex>none</ParticipantIndex></Discovery>"
      "</Domain></CycloneDDS>";
    const char *config = range == DISCOVERY_LOCALHOST ? local : off;
    const char *user = getenv("CYCLONEDDS_URI");
    char *uri = malloc(strlen(config) + (user ? strlen(user) + 2 : 1));
    if (uri == NULL) {
      fail(1, "%s", "out of memory");
      return -1;
    }
    strcpy(uri, config);
    if (user != NULL && *user != '\0') strcat(strcat(uri, ","), user);
    setenv("CYCLONEDDS_URI", uri, 1);
    free(uri);
  }
  *participant = dds_create_participant((dds_domainid_t)domain, NULL, NULL);
  if (*participant < 0) {
    fail(1, "cannot create a DDS participant: %s", dds_strretcode(-*participant));
    return -1;
  }
  /* ROS 2 topic names on DDS: "rt" + the absolute topic name */
  char name[1024];
  snprintf(name, sizeof name, "rt%s%s", topic[0] == '/' ? "" : "/", topic);
  dds_entity_t t = dds_create_topic(*participant, &std_msgs_msg_dds__String__desc, name, NULL, NULL);
  if (t < 0) fail(1, "cannot create the DDS topic: %s", dds_strretcode(-t));
  return t;
}

static dds_qos_t *ros_default_qos(void)
{
  /* rclcpp's default: reliable, volatile, keep last 10 */
  dds_qos_t *qos = dds_create_qos();
  dds_qset_reliability(qos, DDS_RELIABILITY_RELIABLE, DDS_SECS(1));
  dds_qset_durability(qos, DDS_DURABILITY_VOLATILE);
  dds_qset_history(qos, DDS_HISTORY_KEEP_LAST, 10);
  return qos;
}

/* ---- ros2 topic pub ---------------------------------------------------------------------- */

/* The value of `data` in "{data: TEXT}", "data: TEXT" or "{data: 'TEXT'}" (the YAML the
 * checks use); NULL when there is none. */
static char *string_data(const char *yaml)
{
  const char *p = strstr(yaml, "data:");
  if (p == NULL) return NULL;
  p += 5;
  while (*p == ' ') p++;
  char *value = strdup(p);
  size_t n = strlen(value);
  while (n > 0 && (value[n - 1] == '}' || value[n - 1] == ' ')) value[--n] = '\0';
  if (n >= 2 && (value[0] == '\'' || value[0] == '"') && value[n - 1] == value[0]) {
    value[n - 1] = '\0';
    memmove(value, value + 1, n - 1);
  }
  return value;
}

static volatile sig_atomic_t stop = 0;
static void on_signal(int sig)
{
  (void)sig;
  stop = 1;
}

static int topic_pub(int argc, char **argv)
{
  double rate = 1.0;
  const char *pos[3] = {NULL, NULL, NULL};
  int npos = 0;
  for (int i = 0; i < argc; i++) {
    if (strcmp(argv[i], "-r") == 0 || strcmp(argv[i], "--rate") == 0) {
      if (++i == argc) return fail(2, "%s needs a value", argv[i - 1]);
      char *end = NULL;
      rate = strtod(argv[i], &end);
      if (end == argv[i] || *end != '\0' || !(rate >= 0.01 && rate <= 1000))
        return fail(2, "the rate must be a number of Hz from 0.01 to 1000, got '%s'", argv[i]);
    } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
      return fail(2, "option %s is not implemented", argv[i]);
    } else if (npos < 3) {
      pos[npos++] = argv[i];
    } else {
      return fail(2, "unexpected argument '%s'", argv[i]);
    }
  }
  if (npos < 2) return fail(2, "%s", "usage: ros2 topic pub [-r RATE] TOPIC " STRING_TYPE " VALUES");
  if (strcmp(pos[1], STRING_TYPE) != 0) return fail(2, "only " STRING_TYPE " is implemented, not '%s'", pos[1]);
  char *data = string_data(pos[2] ? pos[2] : "{data: ''}");
  if (data == NULL) return fail(2, "cannot read 'data' from '%s'", pos[2]);

  dds_entity_t participant, topic = open_topic(pos[0], &participant);
  if (topic < 0) return 1;
  dds_qos_t *qos = ros_default_qos();
  dds_entity_t writer = dds_create_writer(participant, topic, qos, NULL);
  dds_delete_qos(qos);
  if (writer < 0) return fail(1, "cannot create a DDS writer: %s", dds_strretcode(-writer));
  signal(SIGINT, on_signal);
  signal(SIGTERM, on_signal);
  printf("publisher: beginning loop\n");
  fflush(stdout);
  std_msgs_msg_dds__String_ msg = {.data = data};
  for (long n = 1; !stop; n++) {
    dds_return_t rc = dds_write(writer, &msg);
    if (rc != DDS_RETCODE_OK) return fail(1, "dds_write failed: %s", dds_strretcode(-rc));
    printf("publishing #%ld: std_msgs.msg.String(data='%s')\n\n", n, data);
    fflush(stdout);
    dds_sleepfor((dds_duration_t)(DDS_NSECS_IN_SEC / rate));
  }
  dds_delete(participant);
  free(data);
  return 0;
}

/* ---- ros2 topic echo --------------------------------------------------------------------- */

static int topic_echo(int argc, char **argv)
{
  int once = 0;
  const char *pos[2] = {NULL, NULL};
  int npos = 0;
  for (int i = 0; i < argc; i++) {
    if (strcmp(argv[i], "--once") == 0) {
      once = 1;
    } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
      return fail(2, "option %s is not implemented", argv[i]);
    } else if (npos < 2) {
      pos[npos++] = argv[i];
    } else {
      return fail(2, "unexpected argument '%s'", argv[i]);
    }
  }
  if (npos < 1) return fail(2, "%s", "usage: ros2 topic echo [--once] TOPIC [" STRING_TYPE "]");
  if (pos[1] != NULL && strcmp(pos[1], STRING_TYPE) != 0)
    return fail(2, "only " STRING_TYPE " is implemented, not '%s'", pos[1]);

  dds_entity_t participant, topic = open_topic(pos[0], &participant);
  if (topic < 0) return 1;
  dds_qos_t *qos = ros_default_qos();
  dds_entity_t reader = dds_create_reader(participant, topic, qos, NULL);
  dds_delete_qos(qos);
  if (reader < 0) return fail(1, "cannot create a DDS reader: %s", dds_strretcode(-reader));
  dds_entity_t waitset = dds_create_waitset(participant);
  dds_entity_t readable = dds_create_readcondition(reader, DDS_ANY_STATE);
  dds_waitset_attach(waitset, readable, reader);
  signal(SIGINT, on_signal);
  signal(SIGTERM, on_signal);
  while (!stop) {
    /* wake up now and then to notice a signal */
    if (dds_waitset_wait(waitset, NULL, 0, DDS_MSECS(200)) <= 0) continue;
    void *samples[1] = {NULL};
    dds_sample_info_t info[1];
    dds_return_t n = dds_take(reader, samples, info, 1, 1);
    if (n < 0) return fail(1, "dds_take failed: %s", dds_strretcode(-n));
    int got = n > 0 && info[0].valid_data;
    if (got) {
      printf("data: %s\n---\n", ((std_msgs_msg_dds__String_ *)samples[0])->data);
      fflush(stdout);
    }
    if (n > 0) dds_return_loan(reader, samples, n);
    if (got && once) break;
  }
  dds_delete(participant);
  return stop ? 130 : 0;
}

int main(int argc, char **argv)
{
  if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
    usage(stdout);
    return argc < 2 ? 2 : 0;
  }
  if (strcmp(argv[1], "pkg") == 0 && argc == 3 && strcmp(argv[2], "list") == 0) return pkg_list();
  if (strcmp(argv[1], "topic") == 0 && argc >= 3 && strcmp(argv[2], "pub") == 0)
    return topic_pub(argc - 3, argv + 3);
  if (strcmp(argv[1], "topic") == 0 && argc >= 3 && strcmp(argv[2], "echo") == 0)
    return topic_echo(argc - 3, argv + 3);
  fprintf(stderr, PROG ": '%s%s%s' is not implemented; this stand-in implements only --help, pkg list, topic pub and topic echo\n",
          argv[1], argc > 2 ? " " : "", argc > 2 ? argv[2] : "");
  return 2;
}
