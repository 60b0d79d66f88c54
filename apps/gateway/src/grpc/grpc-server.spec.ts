import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gatewayProtoPath, grpcAddress } from './grpc-server';

describe('gatewayProtoPath', () => {
  it('finds the repository copy from the sources', () => {
    const path = gatewayProtoPath();
    expect(path).toBe(join(__dirname, '..', '..', '..', '..', 'proto', 'cimd', 'v1', 'gateway.proto'));
    expect(existsSync(path)).toBe(true);
  });

  it('prefers the copy nearest to the code: dist/proto when running from dist/', () => {
    const root = mkdtempSync(join(tmpdir(), 'cimd-proto-'));
    const code = join(root, 'dist', 'apps', 'gateway', 'src', 'grpc');
    mkdirSync(code, { recursive: true });
    for (const base of [root, join(root, 'dist')]) {
      mkdirSync(join(base, 'proto', 'cimd', 'v1'), { recursive: true });
      writeFileSync(join(base, 'proto', 'cimd', 'v1', 'gateway.proto'), 'syntax = "proto3";');
    }
    try {
      expect(gatewayProtoPath(code)).toBe(join(root, 'dist', 'proto', 'cimd', 'v1', 'gateway.proto'));
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('names the file when there is none', () => {
    expect(() => gatewayProtoPath(tmpdir())).toThrow(/proto\/cimd\/v1\/gateway\.proto was not found/);
  });
});

describe('grpcAddress', () => {
  it.each([
    ['0.0.0.0', '0.0.0.0:50051'],
    ['127.0.0.1', '127.0.0.1:50051'],
    ['localhost', 'localhost:50051'],
    ['::', '[::]:50051'],
    ['[::1]', '[::1]:50051'],
  ])('%s', (host, address) => {
    expect(grpcAddress(host, 50051)).toBe(address);
  });
});
