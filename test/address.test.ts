import { contains, isNetwork, networkOf, parseCidr, parseIp } from '../src/core/address';

describe('parseIp', () => {
  test.each([
    ['192.0.2.1', '192.0.2.1'],
    ['2001:DB8::1', '2001:db8::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['::', '::'],
    ['::ffff:192.0.2.1', '::ffff:c000:201'],
    ['fe80:0000:0000:0000:0000:0000:0000:0001', 'fe80::1'],
  ])('%s -> %s', (text, canonical) => expect(parseIp(text)?.text).toBe(canonical));

  test.each(['0.0.0.0', '255.255.255.255', '10.20.30.40'])('%s is itself', (text) => expect(parseIp(text)?.text).toBe(text));

  test.each(['192.0.2', '192.0.2.256', '192.0.2.01', '192.0.2.00', '01.2.3.4', '1.2.3.1000', '1..3.4', '.1.2.3', '1.2.3.4.', ' 1.2.3.4', '1.2.3.4a', '1.2.3.-4', '1.2.3.4.5', '2001:db8:::1', '2001:db8::1::2', '1:2:3:4:5:6:7:8:9', 'fe80::1%eth0', 'x', ''])(
    'rejects %p', (text) => expect(parseIp(text)).toBeUndefined());
});

describe('parseCidr and networks', () => {
  test('prefix bounds per family', () => {
    expect(parseCidr('192.0.2.0/32')).toBeDefined();
    expect(parseCidr('192.0.2.0/33')).toBeUndefined();
    expect(parseCidr('2001:db8::/128')).toBeDefined();
    expect(parseCidr('2001:db8::/129')).toBeUndefined();
    expect(parseCidr('192.0.2.0/024')).toBeUndefined();
  });
  test('network detection', () => {
    expect(isNetwork(parseCidr('192.168.42.0/24')!)).toBe(true);
    expect(isNetwork(parseCidr('192.168.42.1/24')!)).toBe(false);
    expect(networkOf(parseCidr('198.51.100.77/26')!).text).toBe('198.51.100.64/26');
    expect(networkOf(parseCidr('2001:db8:1:2::5/48')!).text).toBe('2001:db8:1::/48');
  });
  test('containment', () => {
    expect(contains(parseCidr('198.51.100.0/24')!, parseIp('198.51.100.200')!)).toBe(true);
    expect(contains(parseCidr('198.51.100.0/25')!, parseIp('198.51.100.200')!)).toBe(false);
    expect(contains(parseCidr('2001:db8::/32')!, parseIp('2001:db8:ffff::1')!)).toBe(true);
    expect(contains(parseCidr('2001:db8::/32')!, parseIp('198.51.100.1')!)).toBe(false);
  });
});
