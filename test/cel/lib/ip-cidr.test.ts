import { describe, expect, it } from 'vitest';
import { cidrLibrary } from '../../../src/cel/lib/cidr.js';
import { ipLibrary } from '../../../src/cel/lib/ip.js';
import { evaluator } from './helpers.js';

const cel = evaluator(ipLibrary, cidrLibrary);

describe('ip (kube library.IP)', () => {
  // Cases from k8s.io/apiserver/pkg/cel/library/ip_test.go (TestIP).
  it('kube’s cases', () => {
    cel.expectTrue([
      "ip('192.168.0.1') == ip('192.168.0.1')",
      "isIP('192.168.0.1')",
      "!isIP('192.168.0.1.0')",
      "ip.isCanonical('127.0.0.1')",
      "ip('192.168.0.1').family() == 4",
      "ip('0.0.0.0').isUnspecified()",
      "!ip('127.0.0.1').isUnspecified()",
      "ip('127.0.0.1').isLoopback()",
      "!ip('1.2.3.4').isLoopback()",
      "ip('224.0.0.1').isLinkLocalMulticast()",
      "!ip('224.0.1.1').isLinkLocalMulticast()",
      "ip('169.254.169.254').isLinkLocalUnicast()",
      "!ip('192.168.0.1').isLinkLocalUnicast()",
      "ip('192.168.0.1').isGlobalUnicast()",
      "!ip('255.255.255.255').isGlobalUnicast()",
      "ip('2001:db8::68') == ip('2001:db8::68')",
      "isIP('2001:db8::68')",
      "!isIP('2001:db8:::68')",
      "ip.isCanonical('2001:db8::68')",
      "!ip.isCanonical('2001:DB8::68')",
      "ip('2001:db8::68').family() == 6",
      "ip('::').isUnspecified()",
      "!ip('::1').isUnspecified()",
      "ip('::1').isLoopback()",
      "!ip('2001:db8::abcd').isLoopback()",
      "ip('ff02::1').isLinkLocalMulticast()",
      "!ip('fd00::1').isLinkLocalMulticast()",
      "ip('fe80::1').isLinkLocalUnicast()",
      "!ip('fd80::1').isLinkLocalUnicast()",
      "ip('2001:db8::abcd').isGlobalUnicast()",
      "!ip('ff00::1').isGlobalUnicast()",
      "string(ip('192.168.0.1')) == '192.168.0.1'",
      "type(ip('192.168.0.1')) == type(cidr('192.168.0.0/24').ip())",
    ]);
    cel.expectErrors({
      "ip('192.168.0.1.0')":
        'IP Address "192.168.0.1.0" parse error during conversion from string: ParseAddr("192.168.0.1.0"): IPv4 address too long',
      "ip.isCanonical('127.0.0.1.0')":
        'IP Address "127.0.0.1.0" parse error during conversion from string: ParseAddr("127.0.0.1.0"): IPv4 address too long',
      "ip('2001:db8:::68')":
        'IP Address "2001:db8:::68" parse error during conversion from string: ParseAddr("2001:db8:::68"): each colon-separated field must have at least one digit (at ":68")',
      "ip.isCanonical('2001:db8:::68')":
        'IP Address "2001:db8:::68" parse error during conversion from string: ParseAddr("2001:db8:::68"): each colon-separated field must have at least one digit (at ":68")',
    });
    // kube refuses isIP(cidr(...)) when it compiles; here no overload matches.
    expect(cel.run("isIP(cidr('192.168.0.0/24'))").ok).toBe(false);
  });

  // The doc comment of k8s.io/apiserver/pkg/cel/library/ip.go, and Go's net/netip parse errors.
  it('refuses what kube refuses, in Go’s words', () => {
    cel.expectErrors({
      "ip('127.0.0.256')":
        'IP Address "127.0.0.256" parse error during conversion from string: ParseAddr("127.0.0.256"): IPv4 field has value >255',
      "ip(':::1')":
        'IP Address ":::1" parse error during conversion from string: ParseAddr(":::1"): each colon-separated field must have at least one digit (at ":1")',
      "ip('::ffff:1.2.3.4')": 'IPv4-mapped IPv6 address "::ffff:1.2.3.4" is not allowed',
      "ip('fe80::1%eth0')": 'IP address "fe80::1%eth0" with zone value is not allowed',
      "ip('010.0.0.1')":
        'IP Address "010.0.0.1" parse error during conversion from string: ParseAddr("010.0.0.1"): IPv4 field has octet with leading zero',
      "ip('1.2.3')":
        'IP Address "1.2.3" parse error during conversion from string: ParseAddr("1.2.3"): IPv4 address too short',
      "ip('')": 'IP Address "" parse error during conversion from string: ParseAddr(""): unable to parse IP',
      "ip('%eth0')":
        'IP Address "%eth0" parse error during conversion from string: ParseAddr("%eth0"): missing IPv6 address',
      "ip('1::2::3')":
        'IP Address "1::2::3" parse error during conversion from string: ParseAddr("1::2::3"): multiple :: in address (at ":3")',
      "ip('12345::')":
        'IP Address "12345::" parse error during conversion from string: ParseAddr("12345::"): each group must have 4 or less digits (at "12345::")',
      "ip('1:2:3:4:5:6:7:8:9')":
        'IP Address "1:2:3:4:5:6:7:8:9" parse error during conversion from string: ParseAddr("1:2:3:4:5:6:7:8:9"): trailing garbage after address (at "9")',
      "ip('1:2:3:4:5:6:7')":
        'IP Address "1:2:3:4:5:6:7" parse error during conversion from string: ParseAddr("1:2:3:4:5:6:7"): address string too short',
      "ip('1:2:3:4:5:6:7::8')":
        'IP Address "1:2:3:4:5:6:7::8" parse error during conversion from string: ParseAddr("1:2:3:4:5:6:7::8"): the :: must expand to at least one field of zeros',
      "ip('::1.2.3.04')":
        'IP Address "::1.2.3.04" parse error during conversion from string: ParseAddr("::1.2.3.04"): IPv4 field has octet with leading zero',
    });
  });

  it('writes addresses as Go’s netip (RFC 5952)', () => {
    cel.expectTrue([
      "string(ip('2001:0db8:0000:0000:0000:0000:0000:0001')) == '2001:db8::1'",
      "string(ip('2001:db8:0:1:0:0:0:1')) == '2001:db8:0:1::1'",
      "string(ip('2001:db8:0:0:1:0:0:1')) == '2001:db8::1:0:0:1'",
      "string(ip('1:0:2:3:4:5:6:7')) == '1:0:2:3:4:5:6:7'",
      "string(ip('::')) == '::'",
      "string(ip('::1.2.3.4')) == '::102:304'",
      "ip.isCanonical('::102:304') && !ip.isCanonical('::1.2.3.4')",
      "ip('2001:DB8::1') == ip('2001:db8::1')",
      "ip('1.2.3.4') != ip('::102:304')",
      "ip('0.0.0.0').isGlobalUnicast() == false",
      "ip('10.0.0.1').isGlobalUnicast()", // private addresses are global unicast, as in Go
      "ip('fe80::1').isGlobalUnicast() == false",
      "ip('::').isGlobalUnicast() == false",
      "ip('ff01::1').isLinkLocalMulticast() == false",
    ]);
  });

  it('keeps IP values apart from claims', () => {
    const claims = { ip: '10.0.0.1', fake: { family: 4 } };
    cel.expectTrue(
      [
        'ip(claims.ip).family() == 4',
        'ip(claims.ip) != claims.ip',
        'ip(claims.ip) != claims.fake',
        'type(ip(claims.ip)) != type(claims.fake)',
      ],
      claims,
    );
    expect(cel.run('claims.fake.family()', claims).ok).toBe(false);
    expect(cel.run("size(ip('1.2.3.4'))").ok).toBe(false);
  });
});

describe('cidr (kube library.CIDR)', () => {
  // Cases from k8s.io/apiserver/pkg/cel/library/cidr_test.go (TestCIDR).
  it('kube’s cases', () => {
    cel.expectTrue([
      "cidr(dyn('192.168.0.0/24')) == cidr('192.168.0.0/24')",
      "cidr('192.168.0.0/24').containsIP(ip('192.168.0.1'))",
      "!cidr('192.168.0.0/24').containsIP(ip('192.168.1.1'))",
      "cidr('192.168.0.0/24').containsIP('192.168.0.1')",
      "!cidr('192.168.0.0/24').containsIP('192.168.1.1')",
      "cidr('192.168.0.0/24').containsCIDR(cidr('192.168.0.0/25'))",
      "!cidr('192.168.0.0/24').containsCIDR(cidr('192.168.0.0/23'))",
      "cidr('192.168.0.0/24').containsCIDR('192.168.0.0/25')",
      "!cidr('192.168.0.0/24').containsCIDR('192.168.0.0/23')",
      "cidr('192.168.0.0/24').ip() == ip('192.168.0.0')",
      "cidr('192.168.0.0/24').masked() == cidr('192.168.0.0/24')",
      "cidr('192.168.0.1/24').masked() == cidr('192.168.0.0/24')",
      "cidr('192.168.0.0/24').prefixLength() == 24",
      "cidr('2001:db8::/32') == cidr('2001:db8::/32')",
      "cidr('2001:db8::/32').containsIP(ip('2001:db8::1'))",
      "!cidr('2001:db8::/32').containsIP(ip('2001:dc8::1'))",
      "cidr('2001:db8::/32').containsIP('2001:db8::1')",
      "!cidr('2001:db8::/32').containsIP('2001:dc8::1')",
      "cidr('2001:db8::/32').containsCIDR(cidr('2001:db8::/33'))",
      "!cidr('2001:db8::/32').containsCIDR(cidr('2001:db8::/31'))",
      "cidr('2001:db8::/32').containsCIDR('2001:db8::/33')",
      "!cidr('2001:db8::/32').containsCIDR('2001:db8::/31')",
      "cidr('2001:db8::/32').ip() == ip('2001:db8::')",
      "cidr('2001:db8::/32').masked() == cidr('2001:db8::/32')",
      "cidr('2001:db8:1::/32').masked() == cidr('2001:db8::/32')",
      "cidr('2001:db8::/32').prefixLength() == 32",
      "string(cidr('192.168.0.0/24')) == '192.168.0.0/24'",
    ]);
    cel.expectErrors({
      "cidr('192.168.0.0/')":
        'network address parse error during conversion from string: network address parse error during conversion from string: netip.ParsePrefix("192.168.0.0/"): bad bits after slash: ""',
      "cidr('2001:db8::/')":
        'network address parse error during conversion from string: network address parse error during conversion from string: netip.ParsePrefix("2001:db8::/"): bad bits after slash: ""',
    });
    expect(cel.run('cidr(192168)').ok).toBe(false);
  });

  // The doc comment of k8s.io/apiserver/pkg/cel/library/cidr.go; containsCIDR as fixed by
  // kubernetes#130450 (kube 1.33: the contained prefix is masked before comparing).
  it('kube’s documented examples', () => {
    cel.expectTrue([
      "isCIDR('192.168.0.0/16')",
      "isCIDR('::1/128')",
      "!isCIDR('192.168.0.0/33')",
      "!isCIDR('::1/129')",
      "cidr('192.168.0.0/16').containsCIDR(cidr('192.168.10.0/24'))",
      "!cidr('192.168.1.0/24').containsCIDR(cidr('192.168.2.0/24'))",
      "cidr('192.168.0.0/16').containsCIDR('192.168.10.0/24')",
      "cidr('192.168.0.0/16').containsCIDR('192.168.0.1/32')",
      "cidr('192.168.0.1/24').ip() == ip('192.168.0.1')",
      "cidr('192.168.0.1/24').ip().family() == 4",
      "cidr('::1/128').ip() == ip('::1')",
      "cidr('::1/128').ip().family() == 6",
      "cidr('192.168.0.0/24') == cidr('192.168.0.0/24').masked()",
      "cidr('192.168.0.1/24') != cidr('192.168.0.1/24').masked()",
      "cidr('192.168.0.0/16').prefixLength() == 16",
      "cidr('::1/128').prefixLength() == 128",
      "cidr('10.0.0.0/8').containsIP('10.1.2.3')",
      "!cidr('10.0.0.0/8').containsIP('11.1.2.3')",
      "!cidr('::/0').containsIP('1.2.3.4')", // an IPv4 address is in no IPv6 prefix
      "!cidr('0.0.0.0/0').containsCIDR('::/0')",
      "cidr('0.0.0.0/0').containsIP('255.255.255.255')",
      "string(cidr('2001:DB8::1/64').masked()) == '2001:db8::/64'",
    ]);
  });

  it('refuses what kube refuses, in Go’s words', () => {
    const prefix = 'network address parse error during conversion from string';
    cel.expectErrors({
      "cidr('192.168.0.0/33')": `${prefix}: ${prefix}: netip.ParsePrefix("192.168.0.0/33"): prefix length out of range`,
      "cidr('192.168.0.0')": `${prefix}: ${prefix}: netip.ParsePrefix("192.168.0.0"): no '/'`,
      "cidr('192.168.0.0/016')": `${prefix}: ${prefix}: netip.ParsePrefix("192.168.0.0/016"): bad bits after slash: "016"`,
      "cidr('192.168.0.0/+16')": `${prefix}: ${prefix}: netip.ParsePrefix("192.168.0.0/+16"): bad bits after slash: "+16"`,
      "cidr('fe80::1%eth0/64')": `${prefix}: ${prefix}: netip.ParsePrefix("fe80::1%eth0/64"): IPv6 zones cannot be present in a prefix`,
      "cidr('1.2.3/8')": `${prefix}: ${prefix}: netip.ParsePrefix("1.2.3/8"): ParseAddr("1.2.3"): IPv4 address too short`,
      "cidr('::ffff:1.2.3.4/120')": `${prefix}: IPv4-mapped IPv6 address "::ffff:1.2.3.4/120" is not allowed`,
      "cidr('10.0.0.0/8').containsCIDR('10.0.0.0')": `${prefix}: ${prefix}: netip.ParsePrefix("10.0.0.0"): no '/'`,
      // kube's cidrContainsIP answers "no such overload" for a string that is no IP address.
      "cidr('10.0.0.0/8').containsIP('not an ip')": 'no such overload',
    });
  });
});
