import { IConstruct } from 'constructs';
import { describeIssue, issuesOf, VrrpDomain } from '../core';

const domains = new WeakMap<IConstruct, VrrpDomain>();

/** The VRRP domain of a construct's app: one per construct tree. */
export function domainOf(scope: IConstruct): VrrpDomain {
  const root = scope.node.root;
  let domain = domains.get(root);
  if (!domain) {
    domain = new VrrpDomain();
    domains.set(root, domain);
  }
  return domain;
}

/** Adds the app-wide checks that concern this construct to its cdk8s validation. */
export function validateInDomain(scope: IConstruct): void {
  scope.node.addValidation({
    validate: () => issuesOf(domainOf(scope), scope.node.path).map(describeIssue),
  });
}
