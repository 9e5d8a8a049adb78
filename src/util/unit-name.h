/* SPDX-License-Identifier: MIT */
/* systemd unit names: a template's instance escaped as systemd-escape(1) does. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#define UNIT_NAME_MAX 255 /* systemd's limit on a unit name, suffix included */

/* "name@.service" (any suffix): a template that can be given an instance. */
bool unit_name_is_template(const char *name);

/* "name@<escaped instance>.service" from a template: the instance escaped like `systemd-escape`
 * ('/' becomes '-', a leading '.' and bytes other than [A-Za-z0-9:_.] become \xNN). -EINVAL if
 * template is not one, -ENAMETOOLONG if the result would pass UNIT_NAME_MAX. */
int unit_name_instance(const char *template, const char *instance, char *buf, size_t size);
