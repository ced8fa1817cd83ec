/**
 * What a plan id may look like where one is asked for (HTTP paths, CLI
 * arguments): the ids planIdFor (plan.ts) makes, and the few a caller names
 * itself — short enough to be an LMDB key (a 4,093-character id overflowed
 * one). Its own module: the CLI checks arguments with it before loading the
 * plan model.
 */
export const PLAN_ID_PATTERN = /^[A-Za-z0-9_.-]{1,128}$/;

export const PLAN_ID_SHAPE = '1-128 letters, digits, _ . -';
