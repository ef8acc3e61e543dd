/* A raw DNS query over UDP to 1.1.1.1:53: sendto must fail (no route), as
 * must a raw socket (no CAP_NET_RAW). Nothing leaves the sandbox. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(void) {
    int escaped = 0;
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in to = {0};
    to.sin_family = AF_INET;
    to.sin_port = htons(53);
    inet_pton(AF_INET, "1.1.1.1", &to.sin_addr);
    const char query[] = "\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00"
                         "\x07" "example" "\x03" "com" "\x00\x00\x01\x00\x01";
    if (sendto(fd, query, sizeof query - 1, 0, (struct sockaddr *)&to, sizeof to) >= 0) {
        printf("ESCAPED: a UDP datagram was sent\n");
        escaped = 1;
    } else {
        printf("udp: %s\n", strerror(errno));
    }
    close(fd);
    int raw = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
    if (raw >= 0) {
        printf("ESCAPED: raw socket opened\n");
        escaped = 1;
        close(raw);
    } else {
        printf("raw: %s\n", strerror(errno));
    }
    int packet = socket(AF_PACKET, SOCK_RAW, 0);
    if (packet >= 0) {
        printf("ESCAPED: packet socket opened\n");
        escaped = 1;
        close(packet);
    } else {
        printf("packet: %s\n", strerror(errno));
    }
    printf("%s\n", escaped ? "ESCAPED" : "BLOCKED");
    return 0;
}
