// vcsim for the S2P lab: govmomi's vSphere API simulator with the programme's inventory.
//
// Built offline by lab/services/vcsim.py from Debian's govmomi 0.24.2 source plus
// lab/vcsim/*.patch. Inventory (all in memory; rebuilt on every start):
//
//	/<DC>/host/<DC>-CL01                 cluster with hosts <dc>-esx01..NN.s2p.esa.int
//	/<DC>/datastore/<dc>-ds01            local datastore (a folder under -datastores)
//	/<DC>/network/<dc>-dvs01             distributed switch with port groups
//	                                     <dc>-vm-net and <dc>-mgmt-net
//	/<DC>/vm/s2p                         VM folder for the programme's VMs, with one folder
//	                                     per segment (swe, sd, pd, dsdc): tests running at the
//	                                     same time share them, so none of them creates or removes one
//	/<DC>/vm/templates/debian-12-template  template (disk + NIC on <dc>-vm-net)
//	/<DC>/vm/bench/s2p-bench-NNNNN       -vms extra powered-on VMs, round-robin over DCs
//
// for DC in ESOC, ESEC, ESRIN (dc = lower case). Nothing secret is logged.
//
// -task-delay ID=DURATION (repeatable; ID is a task's descriptionId, e.g. VirtualMachine.cloneVm=8s)
// makes those tasks run in the background after the delay, cancelable until then (lab patch
// govmomi-0.24.2-s2p2-tasks.patch). The lab's own vcsim runs without it.
package main

import (
	"context"
	"crypto/tls"
	"flag"
	"fmt"
	"log"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/vmware/govmomi/find"
	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25"
	"github.com/vmware/govmomi/vim25/types"

	_ "github.com/vmware/govmomi/vapi/simulator" // tags and content library over REST
)

const templateName = "debian-12-template"

type site struct {
	name  string // datacenter name, e.g. ESOC
	hosts int
}

var sites = []site{{"ESOC", 3}, {"ESEC", 2}, {"ESRIN", 2}}

// placement is what a new VM in one datacenter needs.
type placement struct {
	site      string
	datastore string
	dsRef     types.ManagedObjectReference
	pool      *object.ResourcePool
	host      *object.HostSystem
	vmNet     types.BaseVirtualDeviceBackingInfo
	folders   map[string]*object.Folder
}

func main() {
	listen := flag.String("listen", "127.0.0.1:18989", "host:port to serve https on")
	certFile := flag.String("cert", "", "TLS certificate (PEM)")
	keyFile := flag.String("key", "", "TLS private key (PEM)")
	username := flag.String("username", "s2p-admin@vsphere.local", "the only accepted user")
	passwordFile := flag.String("password-file", "", "file holding the password")
	dsRoot := flag.String("datastores", "", "folder for datastore contents (wiped at start)")
	extraVMs := flag.Int("vms", 0, "extra powered-on VMs, spread over the datacenters")
	flag.Var(taskDelays{}, "task-delay", "ID=DURATION: run tasks of descriptionId ID (e.g. VirtualMachine.cloneVm) after DURATION, cancelable")
	flag.Parse()

	for name, value := range map[string]string{"cert": *certFile, "key": *keyFile, "password-file": *passwordFile, "datastores": *dsRoot} {
		if value == "" {
			log.Fatalf("-%s is required", name)
		}
	}
	secret, err := os.ReadFile(*passwordFile)
	if err != nil {
		log.Fatalf("reading password: %s", err)
	}
	password := strings.TrimSpace(string(secret))
	if password == "" {
		log.Fatal("empty password")
	}
	cert, err := tls.LoadX509KeyPair(*certFile, *keyFile)
	if err != nil {
		log.Fatalf("loading TLS certificate: %s", err)
	}
	// Datastore files of a previous run would make CreateVM fail with FileAlreadyExists.
	if err := os.RemoveAll(*dsRoot); err != nil {
		log.Fatal(err)
	}

	started := time.Now()
	model := simulator.VPX()
	model.Datacenter, model.Portgroup, model.Host, model.Cluster = 0, 0, 0, 0
	model.ClusterHost, model.Datastore, model.Machine = 0, 0, 0
	if err := model.Create(); err != nil {
		log.Fatalf("creating the model: %s", err)
	}
	ctx := context.Background()
	client, err := vim25.NewClient(ctx, model.Service) // in process, no HTTP
	if err != nil {
		log.Fatal(err)
	}

	var places []*placement
	for _, s := range sites {
		p, err := buildSite(ctx, client, s, *dsRoot)
		if err != nil {
			log.Fatalf("building %s: %s", s.name, err)
		}
		places = append(places, p)
	}
	for i := 0; i < *extraVMs; i++ {
		p := places[i%len(places)]
		name := fmt.Sprintf("s2p-bench-%05d", i+1)
		vm, err := createVM(ctx, p, p.folders["bench"], name, 2, 2048)
		if err != nil {
			log.Fatalf("creating %s: %s", name, err)
		}
		if err := waitTask(ctx, vm.PowerOn); err != nil {
			log.Fatalf("powering on %s: %s", name, err)
		}
	}

	model.Service.Listen = &url.URL{Host: *listen, User: url.UserPassword(*username, password)}
	model.Service.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	model.Service.RegisterEndpoints = true
	server := model.Service.NewServer()
	shown := *server.URL
	shown.User = nil
	log.Printf("vcsim serving %s as %s: %d datacenters, %d extra VMs, inventory built in %s",
		shown.String(), *username, len(sites), *extraVMs, time.Since(started).Round(time.Millisecond))

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)
	<-stop
	log.Print("vcsim stopping")
	server.Close()
}

func buildSite(ctx context.Context, c *vim25.Client, s site, dsRoot string) (*placement, error) {
	lower := strings.ToLower(s.name)
	dc, err := object.NewRootFolder(c).CreateDatacenter(ctx, s.name)
	if err != nil {
		return nil, err
	}
	folders, err := dc.Folders(ctx)
	if err != nil {
		return nil, err
	}

	dvsTask, err := folders.NetworkFolder.CreateDVS(ctx, types.DVSCreateSpec{
		ConfigSpec: &types.VMwareDVSConfigSpec{DVSConfigSpec: types.DVSConfigSpec{Name: lower + "-dvs01"}},
	})
	if err != nil {
		return nil, err
	}
	info, err := dvsTask.WaitForResult(ctx, nil)
	if err != nil {
		return nil, err
	}
	dvs := object.NewDistributedVirtualSwitch(c, info.Result.(types.ManagedObjectReference))

	for _, pg := range []string{lower + "-vm-net", lower + "-mgmt-net"} {
		spec := []types.DVPortgroupConfigSpec{{Name: pg, Type: string(types.DistributedVirtualPortgroupPortgroupTypeEarlyBinding), NumPorts: 128}}
		if err := waitTask(ctx, func(ctx context.Context) (*object.Task, error) { return dvs.AddPortgroup(ctx, spec) }); err != nil {
			return nil, err
		}
	}

	cluster, err := folders.HostFolder.CreateCluster(ctx, s.name+"-CL01", types.ClusterConfigSpecEx{})
	if err != nil {
		return nil, err
	}
	var hosts []*object.HostSystem
	for i := 1; i <= s.hosts; i++ {
		spec := types.HostConnectSpec{HostName: fmt.Sprintf("%s-esx%02d.s2p.esa.int", lower, i)}
		task, err := cluster.AddHost(ctx, spec, true, nil, nil)
		if err != nil {
			return nil, err
		}
		info, err := task.WaitForResult(ctx, nil)
		if err != nil {
			return nil, err
		}
		host := object.NewHostSystem(c, info.Result.(types.ManagedObjectReference))
		hosts = append(hosts, host)
		member := &types.DVSConfigSpec{Host: []types.DistributedVirtualSwitchHostMemberConfigSpec{{
			Operation: string(types.ConfigSpecOperationAdd), Host: host.Reference(),
		}}}
		if err := waitTask(ctx, func(ctx context.Context) (*object.Task, error) { return dvs.Reconfigure(ctx, member) }); err != nil {
			return nil, err
		}
	}

	dsName := lower + "-ds01"
	dsPath := filepath.Join(dsRoot, lower, dsName)
	if err := os.MkdirAll(dsPath, 0o700); err != nil {
		return nil, err
	}
	var ds *object.Datastore
	for _, host := range hosts {
		dss, err := host.ConfigManager().DatastoreSystem(ctx)
		if err != nil {
			return nil, err
		}
		if ds, err = dss.CreateLocalDatastore(ctx, dsName, dsPath); err != nil {
			return nil, err
		}
	}

	pool, err := cluster.ResourcePool(ctx)
	if err != nil {
		return nil, err
	}
	finder := find.NewFinder(c, false)
	finder.SetDatacenter(dc)
	net, err := finder.Network(ctx, lower+"-vm-net")
	if err != nil {
		return nil, err
	}
	backing, err := net.EthernetCardBackingInfo(ctx)
	if err != nil {
		return nil, err
	}

	p := &placement{site: s.name, datastore: dsName, dsRef: ds.Reference(), pool: pool, host: hosts[0],
		vmNet: backing, folders: map[string]*object.Folder{}}
	for _, name := range []string{"s2p", "templates", "bench"} {
		if p.folders[name], err = folders.VmFolder.CreateFolder(ctx, name); err != nil {
			return nil, err
		}
	}
	for _, segment := range []string{"swe", "sd", "pd", "dsdc"} {
		if _, err = p.folders["s2p"].CreateFolder(ctx, segment); err != nil {
			return nil, err
		}
	}

	template, err := createVM(ctx, p, p.folders["templates"], templateName, 2, 4096)
	if err != nil {
		return nil, err
	}
	if err := template.MarkAsTemplate(ctx); err != nil {
		return nil, err
	}
	return p, nil
}

// createVM creates a powered-off Debian 12 VM with one 16 GiB disk and a vmxnet3 NIC on <dc>-vm-net.
func createVM(ctx context.Context, p *placement, folder *object.Folder, name string, cpus int32, memoryMB int64) (*object.VirtualMachine, error) {
	config := types.VirtualMachineConfigSpec{
		Name:     name,
		GuestId:  "debian12_64Guest",
		NumCPUs:  cpus,
		MemoryMB: memoryMB,
		Files:    &types.VirtualMachineFileInfo{VmPathName: "[" + p.datastore + "]"},
	}
	var devices object.VirtualDeviceList
	scsi, err := devices.CreateSCSIController("pvscsi")
	if err != nil {
		return nil, err
	}
	devices = append(devices, scsi)
	disk := devices.CreateDisk(scsi.(types.BaseVirtualController), p.dsRef,
		fmt.Sprintf("[%s] %s/%s.vmdk", p.datastore, name, name))
	disk.CapacityInKB = 16 * 1024 * 1024
	nic, err := devices.CreateEthernetCard("vmxnet3", p.vmNet)
	if err != nil {
		return nil, err
	}
	// vCenter's labels (the simulator would invent "disk-202-0"); clones copy them.
	label(scsi, "SCSI controller 0")
	label(disk, "Hard disk 1")
	label(nic, "Network adapter 1")
	devices = append(devices, disk, nic)
	if config.DeviceChange, err = devices.ConfigSpec(types.VirtualDeviceConfigSpecOperationAdd); err != nil {
		return nil, err
	}
	task, err := folder.CreateVM(ctx, config, p.pool, p.host)
	if err != nil {
		return nil, err
	}
	info, err := task.WaitForResult(ctx, nil)
	if err != nil {
		return nil, err
	}
	return object.NewVirtualMachine(folder.Client(), info.Result.(types.ManagedObjectReference)), nil
}

func label(device types.BaseVirtualDevice, text string) {
	device.GetVirtualDevice().DeviceInfo = &types.Description{Label: text}
}

func waitTask(ctx context.Context, start func(context.Context) (*object.Task, error)) error {
	task, err := start(ctx)
	if err != nil {
		return err
	}
	return task.Wait(ctx)
}

// taskDelays fills simulator.TaskDelay from -task-delay ID=DURATION flags.
type taskDelays struct{}

func (taskDelays) String() string { return "" }

func (taskDelays) Set(value string) error {
	parts := strings.SplitN(value, "=", 2)
	if len(parts) != 2 {
		return fmt.Errorf("want ID=DURATION, got %q", value)
	}
	delay, err := time.ParseDuration(parts[1])
	if err != nil {
		return err
	}
	simulator.TaskDelay[parts[0]] = delay
	return nil
}
